//! Golden logs: files written once by the encoder of each format version and checked in,
//! which every later build must still read, whatever the current `FORMAT_VERSION`.
//!
//! `golden/vN.records` holds one sample of every kind that existed in version N
//! (`charon_events::samples::one_of_each()` at the time), as repeated
//! `[seq: u64 LE][len: u32 LE][len bytes: the framed record, as encode_record made it]`,
//! to the end of the file. `golden/vN.block` holds one data-log block:
//! `[first_seq: u64 LE][the block, as BlockWriter::encode made it]`, with the trade, book
//! ticker and bar samples (seqs 1..=3). `golden/vN.jsonl` holds the serde JSON of each record's
//! envelope, one per line, in file order. `golden/README.md` says the same for readers who
//! never open this file.
//!
//! `golden_vN_stays_readable` decodes the files with today's decoder and compares the JSON.
//! `write_golden_vN` (ignored; needs `CHARON_WRITE_GOLDEN=1`) wrote them and is kept to show
//! how; never rerun it once the format has moved on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use charon_events::codec::{
    decode_body_of, decode_record, encode_record, BlockReader, BlockWriter, FORMAT_VERSION,
};
use charon_events::samples;
use charon_events::{Envelope, EventKind, Seq};

const WRITE_ENV: &str = "CHARON_WRITE_GOLDEN";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Splits a `.records` file into `(seq, record bytes)`.
fn split_records(file: &[u8]) -> Vec<(Seq, &[u8])> {
    let mut records = Vec::new();
    let mut rest = file;
    while !rest.is_empty() {
        assert!(
            rest.len() >= 12,
            "{} bytes left: a truncated record header",
            rest.len()
        );
        let seq = u64::from_le_bytes(rest[..8].try_into().unwrap());
        let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
        rest = &rest[12..];
        assert!(
            rest.len() >= len,
            "record {seq} claims {len} bytes, {} left",
            rest.len()
        );
        records.push((seq, &rest[..len]));
        rest = &rest[len..];
    }
    records
}

fn json(env: &Envelope) -> String {
    serde_json::to_string(env).unwrap()
}

/// Reads golden files `vN.*` back with today's decoder.
fn golden_stays_readable(version: &str) {
    let records_file = read(&format!("{version}.records"));
    let lines = String::from_utf8(read(&format!("{version}.jsonl"))).unwrap();
    let lines: Vec<&str> = lines.lines().collect();

    let records = split_records(&records_file);
    assert_eq!(records.len(), lines.len(), "one JSON line per record");
    let mut decoded = Vec::new();
    for (&(seq, bytes), line) in records.iter().zip(&lines) {
        let env = decode_record(seq, bytes)
            .unwrap_or_else(|e| panic!("{version} record {seq} no longer decodes: {e}"));
        assert_eq!(env.seq, seq);
        assert_eq!(
            json(&env),
            *line,
            "{version} record {seq} decodes to something else"
        );
        decoded.push(env);
    }

    // Every kind of that version, once each, in the order it declared them (variants are never
    // reordered).
    let kinds: Vec<EventKind> = decoded.iter().map(|env| env.payload.kind()).collect();
    assert!(
        kinds.len() <= EventKind::ALL.len(),
        "more {version} kinds than this build knows"
    );
    assert_eq!(kinds, EventKind::ALL[..kinds.len()]);
    let seqs: Vec<Seq> = decoded.iter().map(|env| env.seq).collect();
    assert_eq!(seqs, (1..=decoded.len() as Seq).collect::<Vec<_>>());

    let lines_by_seq: HashMap<Seq, &str> =
        seqs.iter().copied().zip(lines.iter().copied()).collect();
    let block_file = read(&format!("{version}.block"));
    assert!(block_file.len() > 8, "{version}.block is too short");
    let first_seq = u64::from_le_bytes(block_file[..8].try_into().unwrap());
    let reader = BlockReader::open(first_seq, &block_file[8..])
        .unwrap_or_else(|e| panic!("{version} block no longer opens: {e}"));
    assert_eq!(
        reader.count(),
        3,
        "the {version} block holds the trade, book ticker and bar samples"
    );
    for item in reader.bodies() {
        let (seq, body) = item.unwrap_or_else(|e| panic!("{version} block entry unreadable: {e}"));
        let env = decode_body_of(reader.version(), seq, body)
            .unwrap_or_else(|e| panic!("{version} block entry {seq} no longer decodes: {e}"));
        assert_eq!(
            Some(&json(&env).as_str()),
            lines_by_seq.get(&seq),
            "block entry {seq}"
        );
        assert_eq!(reader.get(seq).unwrap(), env);
    }
}

#[test]
fn golden_v1_stays_readable() {
    golden_stays_readable("v1");
}

#[test]
fn golden_v2_stays_readable() {
    golden_stays_readable("v2");
}

/// Writes golden files `v{version}.*` with today's encoder, which must be that version's.
fn write_golden(version: u8) {
    let name = format!("write_golden_v{version}");
    if std::env::var(WRITE_ENV).as_deref() != Ok("1") {
        panic!(
            "{name} overwrites events/tests/golden/v{version}.*, which must stay as a \
             v{version} encoder wrote them. To write them deliberately, run\n    \
             {WRITE_ENV}=1 cargo test -p charon-events --test golden -- --ignored {name}"
        );
    }
    assert_eq!(
        FORMAT_VERSION, version,
        "only a format-v{version} encoder may write the v{version} golden files: add a \
         v{FORMAT_VERSION} writer"
    );

    let samples = samples::one_of_each();
    let mut records = Vec::new();
    let mut jsonl = String::new();
    for env in &samples {
        let bytes = encode_record(env).unwrap();
        records.extend_from_slice(&env.seq.to_le_bytes());
        records.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        records.extend_from_slice(&bytes);
        jsonl.push_str(&json(env));
        jsonl.push('\n');
    }

    let market = [EventKind::Trade, EventKind::BookTicker, EventKind::Bar];
    let block_samples: Vec<&Envelope> = samples
        .iter()
        .filter(|env| market.contains(&env.payload.kind()))
        .collect();
    let first_seq = block_samples[0].seq;
    let mut writer = BlockWriter::new(first_seq);
    for env in block_samples {
        writer.push(env).unwrap();
    }
    let mut block = first_seq.to_le_bytes().to_vec();
    block.extend_from_slice(&writer.encode());

    let dir = golden_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("v{version}.records")), records).unwrap();
    std::fs::write(dir.join(format!("v{version}.block")), block).unwrap();
    std::fs::write(dir.join(format!("v{version}.jsonl")), jsonl).unwrap();
}

#[test]
#[ignore = "rewrites the checked-in golden files; run with CHARON_WRITE_GOLDEN=1"]
fn write_golden_v1() {
    write_golden(1);
}

#[test]
#[ignore = "rewrites the checked-in golden files; run with CHARON_WRITE_GOLDEN=1"]
fn write_golden_v2() {
    write_golden(2);
}
