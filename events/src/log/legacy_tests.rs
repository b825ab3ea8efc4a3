//! Logs in the per-key layout, as run and live logs were written before blocks: they open in
//! that layout, read back, and keep growing in it when continued.

use super::{EventLog, Layout, LogKind, LogMeta, LAYOUT_KEY, META_TREE};
use crate::envelope::Envelope;
use crate::samples;

/// Writes `events` into a new per-key log at `path` and removes its layout marker, leaving
/// what a build from before layouts wrote.
fn legacy_log(path: &std::path::Path, events: &mut [Envelope]) {
    let log = EventLog::create_in(path, LogMeta::new(LogKind::Run), Layout::PerKey).unwrap();
    log.append_batch(events).unwrap();
    log.inner
        .db
        .open_tree(META_TREE)
        .unwrap()
        .remove(LAYOUT_KEY)
        .unwrap();
}

#[test]
fn a_log_without_a_layout_marker_reads_and_grows_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.run");
    let mut first = samples::one_of_each();
    legacy_log(&path, &mut first);

    let log = EventLog::open(&path).unwrap();
    assert_eq!(log.layout(), Layout::PerKey);
    let read: Vec<Envelope> = log.iter().map(Result::unwrap).collect();
    assert_eq!(read, first);
    // One record per key: as many keys as events.
    assert_eq!(log.inner.events.len(), first.len());

    let mut more = samples::one_of_each();
    log.append_batch(&mut more).unwrap();
    log.sync_through(log.last_seq()).unwrap();
    drop(log);

    let log = EventLog::open(&path).unwrap();
    assert_eq!(log.layout(), Layout::PerKey, "continued in its own layout");
    assert_eq!(log.inner.events.len(), first.len() + more.len());
    let read: Vec<Envelope> = log.iter().map(Result::unwrap).collect();
    let expected: Vec<Envelope> = first.iter().chain(&more).cloned().collect();
    assert_eq!(read, expected);
    assert_eq!(log.get(3).unwrap().as_ref(), Some(&expected[2]));
}

#[test]
fn new_logs_of_every_kind_store_blocks() {
    for kind in [LogKind::Data, LogKind::Run, LogKind::Live] {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::create(dir.path().join("log"), kind).unwrap();
        let mut events = samples::one_of_each();
        log.append_batch(&mut events).unwrap();
        drop(log);
        let log = EventLog::open(dir.path().join("log")).unwrap();
        assert_eq!(log.layout(), Layout::Blocks, "{kind}");
        assert!(
            log.inner.events.len() < events.len(),
            "{kind}: {} keys for {} events",
            log.inner.events.len(),
            events.len()
        );
        let read: Vec<Envelope> = log.iter().map(Result::unwrap).collect();
        assert_eq!(read, events, "{kind}");
    }
}

#[test]
fn an_unknown_layout_marker_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.run");
    {
        let log = EventLog::create(&path, LogKind::Run).unwrap();
        log.inner
            .db
            .open_tree(META_TREE)
            .unwrap()
            .insert(LAYOUT_KEY, b"columns".as_slice())
            .unwrap();
    }
    let error = EventLog::open(&path).err().expect("an unknown layout");
    assert!(
        error.to_string().contains("unknown layout \"columns\""),
        "{error}"
    );
    assert!(error.is_bad_input());
}

#[test]
fn stored_bodies_are_what_the_encoder_wrote_in_either_layout() {
    for layout in [Layout::PerKey, Layout::Blocks] {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::create_in(&dir.path().join("log"), LogMeta::new(LogKind::Run), layout)
            .unwrap();
        let mut events: Vec<Envelope> = (0..4).flat_map(|_| samples::one_of_each()).collect();
        log.append_batch(&mut events).unwrap();
        let last = log.last_seq();
        for (from, to) in [(1, last), (7, 9), (last, last), (3, 2)] {
            let bodies: Vec<_> = log.bodies(from, to).unwrap().map(Result::unwrap).collect();
            let expected: Vec<&Envelope> = events
                .iter()
                .filter(|e| e.seq >= from && e.seq <= to)
                .collect();
            assert_eq!(bodies.len(), expected.len(), "{layout:?} {from}..={to}");
            for (body, event) in bodies.iter().zip(expected) {
                let mut encoded = Vec::new();
                crate::codec::encode_body(event, &mut encoded).unwrap();
                assert_eq!((body.seq, body.body()), (event.seq, encoded.as_slice()));
                assert_eq!(&body.decode().unwrap(), event);
            }
        }
    }
}
