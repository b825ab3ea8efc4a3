//! Logs written by an older format version: a run log whose first block format version 1
//! wrote (its manifest without `data_path`) opens, reads back, and keeps growing, its old block
//! left as it was and new events in blocks of today's version.

use super::{key_of, EventLog, LogKind};
use crate::codec::{encode_body, frame_in_version, put_varint, BlockReader, FORMAT_VERSION};
use crate::envelope::Envelope;
use crate::event::{Event, EventKind};
use crate::samples;

/// The samples with the manifest first, as a run log holds them, its `data_path` absent as
/// version 1 could not record it.
fn run_events() -> Vec<Envelope> {
    let mut events = samples::one_of_each();
    let at = events
        .iter()
        .position(|env| env.payload.kind() == EventKind::RunManifest)
        .expect("a manifest sample");
    let mut manifest = events.remove(at);
    let Event::RunManifest(inner) = &mut manifest.payload else {
        unreachable!()
    };
    inner.data_path = None;
    events.insert(0, manifest);
    events
}

/// Rewrites the block at seq 1 of the log at `path` as format version 1 framed it.
fn reframe_first_block_as_v1(path: &std::path::Path) {
    let log = EventLog::open(path).unwrap();
    let bytes = log.inner.events.get(key_of(1)).unwrap().expect("block 1");
    let reader = BlockReader::open(1, &bytes).unwrap();
    assert_eq!(reader.version(), FORMAT_VERSION);
    let mut contents = Vec::new();
    put_varint(&mut contents, u64::from(reader.count()));
    for item in reader.bodies() {
        let (seq, body) = item.unwrap();
        // The manifest's body in version 1 lacks the trailing `None` of `data_path`.
        let body = if seq == 1 {
            &body[..body.len() - 1]
        } else {
            body
        };
        put_varint(&mut contents, body.len() as u64);
        contents.extend_from_slice(body);
    }
    let v1 = frame_in_version(1, 1, &contents);
    log.inner.events.insert(key_of(1), v1).unwrap();
    log.inner.events.flush().unwrap();
}

#[test]
fn a_log_an_older_version_wrote_reads_back_and_grows_in_todays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.run");
    let mut first = run_events();
    {
        let log = EventLog::create(&path, LogKind::Run).unwrap();
        log.append_batch(&mut first).unwrap();
        log.sync_through(log.last_seq()).unwrap();
    }
    reframe_first_block_as_v1(&path);

    let log = EventLog::open(&path).unwrap();
    let read: Vec<Envelope> = log.iter().map(Result::unwrap).collect();
    assert_eq!(read, first, "a version-1 block reads as it was written");
    let bodies: Vec<_> = log.bodies(1, 2).unwrap().map(Result::unwrap).collect();
    assert_eq!((bodies[0].version, bodies[1].version), (1, 1));
    assert_eq!(bodies[0].decode().unwrap(), first[0]);

    let mut more = samples::one_of_each();
    log.append_batch(&mut more).unwrap();
    log.sync_through(log.last_seq()).unwrap();
    drop(log);

    let log = EventLog::open(&path).unwrap();
    let expected: Vec<Envelope> = first.iter().chain(&more).cloned().collect();
    let read: Vec<Envelope> = log.iter().map(Result::unwrap).collect();
    assert_eq!(read, expected);
    let old = log.inner.events.get(key_of(1)).unwrap().expect("block 1");
    let old = BlockReader::open(1, &old).unwrap();
    assert_eq!(
        (old.version(), old.count() as usize),
        (1, first.len()),
        "the old block is left as it was"
    );
    let next = first.len() as u64 + 1;
    let new = log
        .inner
        .events
        .get(key_of(next))
        .unwrap()
        .expect("a new block");
    assert_eq!(
        BlockReader::open(next, &new).unwrap().version(),
        FORMAT_VERSION
    );
    assert_eq!(log.get(2).unwrap().as_ref(), Some(&expected[1]));
    assert_eq!(
        log.get(next).unwrap().as_ref(),
        Some(&expected[first.len()])
    );
    let stored = log.bodies(next, next).unwrap().next().unwrap().unwrap();
    let mut encoded = Vec::new();
    encode_body(&expected[first.len()], &mut encoded).unwrap();
    assert_eq!(
        (stored.version, stored.body()),
        (FORMAT_VERSION, encoded.as_slice())
    );
}
