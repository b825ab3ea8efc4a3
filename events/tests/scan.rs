//! Long data-log scans, which read blocks ahead on a thread of their own: they must yield
//! exactly what was appended, over the whole log and over ranges inside it, and a scan dropped
//! half-way must not keep the log from being reopened at once.

use charon_events::log::READ_AHEAD_MIN_EVENTS;
use charon_events::payload::market::{Aggressor, Trade};
use charon_events::{Envelope, Event, EventLog, LogKind, Symbol, Timestamp};

/// Events whose content is a function of their position, so any misplaced one shows.
fn trades(count: u64) -> Vec<Envelope> {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    (1..=count)
        .map(|n| {
            Envelope::input(
                Timestamp::from_millis(1_723_161_255_342 + n as i64),
                Event::Trade(Trade {
                    trade_id: 3_735_683_259 + n,
                    price: charon_events::Price::new(6_183_763 + (n % 997) as i64, 2),
                    qty: charon_events::Quantity::new((n % 50 + 1) as i64, 3),
                    aggressor: if n % 2 == 0 {
                        Aggressor::Buyer
                    } else {
                        Aggressor::Seller
                    },
                }),
            )
            .with_pair(symbol)
        })
        .collect()
}

fn long_log(dir: &std::path::Path) -> (EventLog, Vec<Envelope>) {
    let mut events = trades(READ_AHEAD_MIN_EVENTS + 25_000);
    let log = EventLog::create(dir.join("long.data"), LogKind::Data).unwrap();
    for chunk in events.chunks_mut(5_000) {
        log.append_batch(chunk).unwrap();
    }
    log.sync_through(log.last_seq()).unwrap();
    (log, events)
}

#[test]
fn a_long_scan_yields_every_event_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (log, events) = long_log(dir.path());
    let path = log.path().to_path_buf();
    drop(log);
    let log = EventLog::open(&path).unwrap();
    let mut expected = events.iter();
    for read in log.iter() {
        assert_eq!(&read.unwrap(), expected.next().unwrap());
    }
    assert!(expected.next().is_none(), "the scan stopped early");
}

#[test]
fn long_ranges_inside_the_log_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (log, events) = long_log(dir.path());
    let (from, to) = (777, 777 + READ_AHEAD_MIN_EVENTS + 3);
    let read: Vec<Envelope> = log.range(from, to).map(Result::unwrap).collect();
    assert_eq!(read.len() as u64, to - from + 1);
    assert_eq!(read.as_slice(), &events[from as usize - 1..to as usize]);
}

#[test]
fn a_scan_dropped_half_way_lets_the_log_reopen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = long_log(dir.path());
    let path = log.path().to_path_buf();
    drop(log);
    for _ in 0..20 {
        let log = EventLog::open(&path).unwrap();
        let mut seen = 0;
        for event in log.iter() {
            event.unwrap();
            seen += 1;
            if seen == 1_000 {
                break; // the reader thread is still ahead, holding sled open
            }
        }
        assert_eq!(seen, 1_000);
    }
    assert_eq!(
        EventLog::open(&path).unwrap().last_seq(),
        READ_AHEAD_MIN_EVENTS + 25_000
    );
}
