//! The on-disk framing of events.
//!
//! A **record** (run and live logs, one per key) is
//! `[format version: u8][crc32: u32 LE][bincode body]`; a **block** (data logs, many events per
//! key) is `[format version: u8][crc32: u32 LE][count: varint]([len: varint][bincode body])*`.
//! Bodies are the envelope without its seq, which is the key. The CRC covers the seq (the
//! first seq for a block) as well as the bytes after it, so a record under the wrong key fails
//! its check just like a flipped bit does.

use bincode::config::{Configuration, Limit, LittleEndian, Varint};

use crate::envelope::{Body, BodyRef, Envelope};
use crate::ids::Seq;

/// The codec's format version, written into every record and block and into the log's meta.
/// Bump it when a payload gains a field; decoders keep reading every older version.
pub const FORMAT_VERSION: u8 = 1;

/// The oldest format version this build still reads.
pub const OLDEST_READABLE_VERSION: u8 = 1;

const HEADER_LEN: usize = 5;
/// No single event body may claim more than this many bytes while decoding; a bound on what a
/// damaged length prefix could make the decoder allocate.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

type WireConfig = Configuration<LittleEndian, Varint, Limit<MAX_BODY_BYTES>>;

pub(crate) fn wire_config() -> WireConfig {
    bincode::config::standard().with_limit::<MAX_BODY_BYTES>()
}

/// A record or block that cannot be read. The log adds its path and the seq.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("record is {len} bytes, shorter than its {HEADER_LEN}-byte header")]
    Truncated { len: usize },
    #[error("format version {found} is newer than this build reads (up to {FORMAT_VERSION})")]
    NewerVersion { found: u8 },
    #[error("format version {found} is not a charon format")]
    UnknownVersion { found: u8 },
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("cannot decode event body: {0}")]
    Decode(String),
    #[error("{0} trailing bytes after the event body")]
    TrailingBytes(usize),
    #[error("cannot encode event: {0}")]
    Encode(String),
    #[error("block holds {count} events; seq {seq} is not among them")]
    SeqNotInBlock { seq: Seq, count: u32 },
}

fn check_version(version: u8) -> Result<(), CodecError> {
    if version > FORMAT_VERSION {
        Err(CodecError::NewerVersion { found: version })
    } else if version < OLDEST_READABLE_VERSION {
        Err(CodecError::UnknownVersion { found: version })
    } else {
        Ok(())
    }
}

fn checksum(seq: Seq, version: u8, rest: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_be_bytes());
    hasher.update(&[version]);
    hasher.update(rest);
    hasher.finalize()
}

/// Appends the bincode body of `env` (everything but its seq) to `out`.
pub fn encode_body(env: &Envelope, out: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::encode_into_std_write(BodyRef::from(env), out, wire_config())
        .map(|_| ())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a body written by [`encode_body`]; every byte must belong to it.
#[inline]
pub fn decode_body(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    crate::fast_decode::decode_body(seq, bytes)
}

/// The same as [`decode_body`], entirely through bincode's derived decoders: the reference the
/// fast path is tested against.
pub fn decode_body_reference(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let (body, used): (Body, usize) = bincode::decode_from_slice(bytes, wire_config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - used));
    }
    Ok(body.with_seq(seq))
}

/// A buffer that starts with room for the header; write the record or block after it.
fn open_frame(capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + capacity);
    out.extend_from_slice(&[FORMAT_VERSION, 0, 0, 0, 0]);
    out
}

/// Fills in the header of a buffer from [`open_frame`]: the CRC binds the contents to `seq`.
fn seal_frame(seq: Seq, mut out: Vec<u8>) -> Vec<u8> {
    let crc = checksum(seq, FORMAT_VERSION, &out[HEADER_LEN..]);
    out[1..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Frames `contents` (a body, or a block's count and entries) under `seq` with a valid header.
/// The log never needs this (it encodes in place); tools that build or damage records do.
pub fn frame(seq: Seq, contents: &[u8]) -> Vec<u8> {
    let mut out = open_frame(contents.len());
    out.extend_from_slice(contents);
    seal_frame(seq, out)
}

/// Encodes `env` as a framed record under `env.seq`.
pub fn encode_record(env: &Envelope) -> Result<Vec<u8>, CodecError> {
    let mut out = open_frame(64);
    encode_body(env, &mut out)?;
    Ok(seal_frame(env.seq, out))
}

/// Checks a record's version and CRC and returns its body bytes.
pub fn verify_record(seq: Seq, bytes: &[u8]) -> Result<&[u8], CodecError> {
    let (version, stored, rest) = split_header(bytes)?;
    check_version(version)?;
    let computed = checksum(seq, version, rest);
    if stored != computed {
        return Err(CodecError::Crc { stored, computed });
    }
    Ok(rest)
}

/// Decodes a framed record stored under `seq`.
pub fn decode_record(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    decode_body(seq, verify_record(seq, bytes)?)
}

fn split_header(bytes: &[u8]) -> Result<(u8, u32, &[u8]), CodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(CodecError::Truncated { len: bytes.len() });
    }
    let stored = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((bytes[0], stored, &bytes[HEADER_LEN..]))
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, CodecError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes
            .get(*pos)
            .ok_or_else(|| CodecError::Decode("block ends inside a length".into()))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(CodecError::Decode(
        "length prefix longer than 10 bytes".into(),
    ))
}

/// Takes the next length-prefixed entry of a block's entries at `pos`, advancing `pos`.
pub fn take_entry<'a>(entries: &'a [u8], pos: &mut usize) -> Result<&'a [u8], CodecError> {
    let len = take_varint(entries, pos)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let end = pos.checked_add(len).filter(|&end| end <= entries.len());
    let end = end.ok_or_else(|| CodecError::Decode("entry runs past the block".into()))?;
    let body = &entries[*pos..end];
    *pos = end;
    Ok(body)
}

/// Builds one block of consecutive events, starting at `first_seq`.
#[derive(Debug, Clone)]
pub struct BlockWriter {
    first_seq: Seq,
    count: u32,
    entries: Vec<u8>,
    scratch: Vec<u8>,
}

impl BlockWriter {
    pub fn new(first_seq: Seq) -> Self {
        Self {
            first_seq,
            count: 0,
            entries: Vec::with_capacity(8 * 1024),
            scratch: Vec::new(),
        }
    }

    pub fn first_seq(&self) -> Seq {
        self.first_seq
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// The seq the next pushed event gets.
    pub fn next_seq(&self) -> Seq {
        self.first_seq + u64::from(self.count)
    }

    /// Bytes of entries so far (the header adds a few more).
    pub fn entries_len(&self) -> usize {
        self.entries.len()
    }

    /// Adds `env`; its seq must be [`Self::next_seq`].
    pub fn push(&mut self, env: &Envelope) -> Result<(), CodecError> {
        debug_assert_eq!(env.seq, self.next_seq(), "blocks hold consecutive seqs");
        self.scratch.clear();
        encode_body(env, &mut self.scratch)?;
        put_varint(&mut self.entries, self.scratch.len() as u64);
        self.entries.extend_from_slice(&self.scratch);
        self.count += 1;
        Ok(())
    }

    /// Continues a block read back from disk (a data log's last, partial block on reopen).
    pub fn reopen(reader: &BlockReader<'_>) -> Result<Self, CodecError> {
        // Validate every entry so a reopened block cannot carry damage forward.
        for body in reader.bodies() {
            body?;
        }
        let mut entries = Vec::with_capacity(8 * 1024);
        entries.extend_from_slice(reader.entries);
        Ok(Self {
            first_seq: reader.first_seq,
            count: reader.count,
            entries,
            scratch: Vec::new(),
        })
    }

    /// The framed block as it goes to disk. The writer stays usable: a partial block can be
    /// written now and rewritten, longer, later.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = open_frame(5 + self.entries.len());
        put_varint(&mut out, u64::from(self.count));
        out.extend_from_slice(&self.entries);
        seal_frame(self.first_seq, out)
    }
}

/// A verified block: iterate its events or pick one out.
#[derive(Debug, Clone)]
pub struct BlockReader<'a> {
    first_seq: Seq,
    count: u32,
    entries: &'a [u8],
    entries_offset: usize,
}

impl<'a> BlockReader<'a> {
    /// Checks the block's version and CRC.
    pub fn open(first_seq: Seq, bytes: &'a [u8]) -> Result<Self, CodecError> {
        let (version, stored, rest) = split_header(bytes)?;
        check_version(version)?;
        let computed = checksum(first_seq, version, rest);
        if stored != computed {
            return Err(CodecError::Crc { stored, computed });
        }
        let mut pos = 0;
        let count = take_varint(rest, &mut pos)?;
        let count = u32::try_from(count)
            .map_err(|_| CodecError::Decode(format!("block count {count} out of range")))?;
        Ok(Self {
            first_seq,
            count,
            entries: &rest[pos..],
            entries_offset: HEADER_LEN + pos,
        })
    }

    pub fn first_seq(&self) -> Seq {
        self.first_seq
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Bytes of entries (as [`BlockWriter::entries_len`] counts them).
    pub fn entries_len(&self) -> usize {
        self.entries.len()
    }

    /// Where the entries start within the block's bytes (for cursors that own the bytes).
    pub fn entries_offset(&self) -> usize {
        self.entries_offset
    }

    /// The last seq in the block (`first_seq - 1` when empty).
    pub fn last_seq(&self) -> Seq {
        self.first_seq + u64::from(self.count) - 1
    }

    /// The raw bodies in order, with their seqs.
    pub fn bodies(&self) -> BlockBodies<'a> {
        BlockBodies {
            next_seq: self.first_seq,
            remaining: self.count,
            entries: self.entries,
            pos: 0,
        }
    }

    /// Decodes the event at `seq`.
    pub fn get(&self, seq: Seq) -> Result<Envelope, CodecError> {
        let missing = CodecError::SeqNotInBlock {
            seq,
            count: self.count,
        };
        if seq < self.first_seq || seq - self.first_seq >= u64::from(self.count) {
            return Err(missing);
        }
        for item in self.bodies() {
            let (at, body) = item?;
            if at == seq {
                return decode_body(seq, body);
            }
        }
        Err(missing)
    }
}

/// Iterator over a block's `(seq, body)` pairs.
#[derive(Debug, Clone)]
pub struct BlockBodies<'a> {
    next_seq: Seq,
    remaining: u32,
    entries: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for BlockBodies<'a> {
    type Item = Result<(Seq, &'a [u8]), CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return if self.pos == self.entries.len() {
                None
            } else {
                let extra = self.entries.len() - self.pos;
                self.pos = self.entries.len();
                Some(Err(CodecError::TrailingBytes(extra)))
            };
        }
        let item = take_entry(self.entries, &mut self.pos).map(|body| (self.next_seq, body));
        if item.is_err() {
            self.remaining = 0;
            self.pos = self.entries.len();
        } else {
            self.remaining -= 1;
            self.next_seq += 1;
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::ids::{Symbol, Timestamp};
    use crate::payload::market::{Aggressor, Trade};

    fn trade(seq: Seq) -> Envelope {
        let mut env = Envelope::input(
            Timestamp::from_millis(1_723_161_255_342),
            Event::Trade(Trade {
                trade_id: 3_735_683_259 + seq,
                price: "61837.63".parse().unwrap(),
                qty: "0.02".parse().unwrap(),
                aggressor: Aggressor::Seller,
            }),
        )
        .with_pair(Symbol::new("BTCUSDT").unwrap());
        env.seq = seq;
        env
    }

    #[test]
    fn record_round_trips_and_binds_its_seq() {
        let env = trade(42);
        let bytes = encode_record(&env).unwrap();
        assert_eq!(decode_record(42, &bytes).unwrap(), env);
        assert!(matches!(
            decode_record(43, &bytes),
            Err(CodecError::Crc { .. })
        ));
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let bytes = encode_record(&trade(7)).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[i / 8] ^= 1 << (i % 8);
            assert!(
                decode_record(7, &damaged).is_err(),
                "bit {i} flip went unnoticed"
            );
        }
    }

    #[test]
    fn versions_are_checked_before_the_crc() {
        let mut bytes = encode_record(&trade(1)).unwrap();
        bytes[0] = FORMAT_VERSION + 1;
        assert_eq!(
            decode_record(1, &bytes),
            Err(CodecError::NewerVersion {
                found: FORMAT_VERSION + 1
            })
        );
        bytes[0] = 0;
        assert_eq!(
            decode_record(1, &bytes),
            Err(CodecError::UnknownVersion { found: 0 })
        );
        assert_eq!(
            decode_record(1, &bytes[..3]),
            Err(CodecError::Truncated { len: 3 })
        );
    }

    #[test]
    fn block_holds_consecutive_events() {
        let mut writer = BlockWriter::new(100);
        for seq in 100..110 {
            writer.push(&trade(seq)).unwrap();
        }
        let bytes = writer.encode();
        let reader = BlockReader::open(100, &bytes).unwrap();
        assert_eq!((reader.count(), reader.last_seq()), (10, 109));
        let seqs: Vec<Seq> = reader.bodies().map(|b| b.unwrap().0).collect();
        assert_eq!(seqs, (100..110).collect::<Vec<_>>());
        assert_eq!(reader.get(105).unwrap(), trade(105));
        assert!(reader.get(110).is_err());
        assert!(matches!(
            BlockReader::open(101, &bytes),
            Err(CodecError::Crc { .. })
        ));
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut pos = 0;
            assert_eq!(take_varint(&out, &mut pos).unwrap(), value);
            assert_eq!(pos, out.len());
        }
    }
}
