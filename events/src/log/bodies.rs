//! Ordered iteration over the stored bodies of a seq range, checked (CRC, contiguity) but not
//! decoded: for byte-for-byte comparisons (replay verification) that would otherwise decode a
//! record only to encode it again.

use std::path::Path;
use std::sync::Arc;

use sled::IVec;

use crate::codec::{decode_body_of, take_entry, verify_record, BlockReader, CodecError};
use crate::envelope::Envelope;
use crate::ids::Seq;
use crate::log::readahead::BlockSource;
use crate::log::{seq_of_key, Layout, LogError};

/// An event's encoded body as the log stores it: the bytes `encode_body` wrote, CRC checked.
#[derive(Clone, Debug)]
pub struct StoredBody {
    pub seq: Seq,
    /// The format version that wrote the body.
    pub version: u8,
    bytes: IVec,
    start: usize,
    end: usize,
}

impl StoredBody {
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    pub fn decode(&self) -> Result<Envelope, CodecError> {
        decode_body_of(self.version, self.seq, self.body())
    }
}

/// A block being walked: its bytes, the next entry's offset within them, the seq of that
/// entry and how many entries are left.
struct WalkedBlock {
    version: u8,
    bytes: IVec,
    pos: usize,
    next_seq: Seq,
    remaining: u32,
}

/// Yields the [`StoredBody`] of each seq of a range in order; an error ends it.
pub struct BodyIter {
    path: Arc<Path>,
    source: BlockSource,
    layout: Layout,
    /// The block being walked (block layout).
    block: Option<WalkedBlock>,
    previous: Seq,
    to: Seq,
    done: bool,
}

impl BodyIter {
    pub(crate) fn new(
        path: Arc<Path>,
        source: BlockSource,
        layout: Layout,
        from: Seq,
        to: Seq,
    ) -> Self {
        Self {
            path,
            source,
            layout,
            block: None,
            previous: from - 1,
            to,
            done: from > to,
        }
    }

    /// The log's path, for errors about what was read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&mut self, error: LogError) -> Option<Result<StoredBody, LogError>> {
        self.done = true;
        Some(Err(error))
    }

    fn gap(&self, found: Seq) -> LogError {
        LogError::Gap {
            path: self.path.to_path_buf(),
            previous: self.previous,
            found,
        }
    }

    fn next_body(&mut self) -> Option<Result<StoredBody, LogError>> {
        loop {
            if let Some(block) = self.block.as_mut().filter(|b| b.remaining > 0) {
                let at = block.next_seq;
                // The entries run to the block's end, so a cursor over all of its bytes
                // (starting at the entries' offset) reads them as it would the entries alone.
                let entry = take_entry(&block.bytes, &mut block.pos).map(|body| body.len());
                block.next_seq += 1;
                block.remaining -= 1;
                match entry {
                    Err(source) => {
                        let path = self.path.to_path_buf();
                        return self.fail(LogError::Corrupt {
                            path,
                            seq: at,
                            source,
                        });
                    }
                    Ok(_) if at <= self.previous => continue, // before the range's start
                    Ok(len) => {
                        return Some(Ok(StoredBody {
                            seq: at,
                            version: block.version,
                            bytes: block.bytes.clone(),
                            start: block.pos - len,
                            end: block.pos,
                        }));
                    }
                }
            }
            let (key, bytes) = match self.source.next()? {
                Ok(kv) => kv,
                Err(e) => return self.fail(LogError::storage(&self.path, e)),
            };
            let first = match seq_of_key(&self.path, &key) {
                Ok(seq) => seq,
                Err(e) => return self.fail(e),
            };
            if self.layout == Layout::PerKey {
                if first != self.previous + 1 {
                    let gap = self.gap(first);
                    return self.fail(gap);
                }
                return match verify_record(first, &bytes) {
                    Ok((version, body)) => {
                        let start = bytes.len() - body.len();
                        let end = bytes.len();
                        Some(Ok(StoredBody {
                            seq: first,
                            version,
                            bytes,
                            start,
                            end,
                        }))
                    }
                    Err(source) => {
                        let path = self.path.to_path_buf();
                        self.fail(LogError::Corrupt {
                            path,
                            seq: first,
                            source,
                        })
                    }
                };
            }
            let expected = match &self.block {
                Some(block) => block.next_seq,
                None if first <= self.previous + 1 => first,
                None => self.previous + 1,
            };
            if first != expected {
                let gap = self.gap(first);
                return self.fail(gap);
            }
            let (version, count, offset) = match BlockReader::open(first, &bytes) {
                Ok(reader) => (reader.version(), reader.count(), reader.entries_offset()),
                Err(source) => {
                    let path = self.path.to_path_buf();
                    return self.fail(LogError::CorruptBlock {
                        path,
                        first_seq: first,
                        source,
                    });
                }
            };
            self.block = Some(WalkedBlock {
                version,
                bytes,
                pos: offset,
                next_seq: first,
                remaining: count,
            });
        }
    }
}

impl Iterator for BodyIter {
    type Item = Result<StoredBody, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_body();
        match &item {
            Some(Ok(body)) => {
                self.previous = body.seq;
                if body.seq >= self.to {
                    self.done = true;
                }
            }
            Some(Err(_)) | None => self.done = true,
        }
        item
    }
}
