//! Blocks: many consecutive events under one key, as
//! `[format version][crc32][count: varint]([len: varint][body])*`. Every body of a block is in
//! the block's format version.

use super::body::{decode_body_of, encode_body};
use super::error::CodecError;
use super::frame::{open_checked, open_frame, put_varint, seal_frame, take_entry, take_varint};
use super::version::FORMAT_VERSION;
use super::wire::HEADER_LEN;
use crate::envelope::Envelope;
use crate::ids::Seq;

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

    /// Continues a block read back from disk (a log's last, partial block on reopen). The
    /// block must have been written in this build's format: its entries are framed again under
    /// today's version byte.
    pub fn reopen(reader: &BlockReader<'_>) -> Result<Self, CodecError> {
        debug_assert_eq!(
            reader.version(),
            FORMAT_VERSION,
            "a block of an older format is left as it is"
        );
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
    version: u8,
    first_seq: Seq,
    count: u32,
    entries: &'a [u8],
    entries_offset: usize,
}

impl<'a> BlockReader<'a> {
    /// Checks the block's version and CRC.
    pub fn open(first_seq: Seq, bytes: &'a [u8]) -> Result<Self, CodecError> {
        let (version, rest) = open_checked(first_seq, bytes)?;
        let mut pos = 0;
        let count = take_varint(rest, &mut pos)?;
        let count = u32::try_from(count)
            .map_err(|_| CodecError::Decode(format!("block count {count} out of range")))?;
        Ok(Self {
            version,
            first_seq,
            count,
            entries: &rest[pos..],
            entries_offset: HEADER_LEN + pos,
        })
    }

    /// The format version that wrote the block (and every body in it).
    pub fn version(&self) -> u8 {
        self.version
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
                return decode_body_of(self.version, seq, body);
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
