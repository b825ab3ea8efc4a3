//! Ordered iteration over a seq range, for both storage layouts. Every record is checked as it
//! is read; an error ends the iteration (nothing is ever skipped).

use std::path::Path;
use std::sync::Arc;

use crate::codec::{decode_body_of, decode_record, take_entry, BlockReader};
use crate::envelope::Envelope;
use crate::ids::Seq;
use crate::log::readahead::BlockSource;
use crate::log::{seq_of_key, LogError};

pub struct LogIter {
    path: Arc<Path>,
    inner: Layout,
    /// The last seq yielded (or `from - 1`), to prove contiguity.
    previous: Seq,
    to: Seq,
    done: bool,
}

enum Layout {
    PerKey(sled::Iter),
    Blocks {
        blocks: BlockSource,
        current: Option<OpenBlock>,
    },
    Failed(Option<LogError>),
}

struct OpenBlock {
    /// The format version that wrote the block.
    version: u8,
    bytes: sled::IVec,
    entries_at: usize,
    pos: usize,
    next_seq: Seq,
    remaining: u32,
}

impl LogIter {
    pub(crate) fn per_key(path: Arc<Path>, iter: sled::Iter, from: Seq, to: Seq) -> Self {
        Self {
            path,
            inner: Layout::PerKey(iter),
            previous: from - 1,
            to,
            done: from > to,
        }
    }

    pub(crate) fn blocks(path: Arc<Path>, blocks: BlockSource, from: Seq, to: Seq) -> Self {
        Self {
            path,
            inner: Layout::Blocks {
                blocks,
                current: None,
            },
            previous: from - 1,
            to,
            done: from > to,
        }
    }

    pub(crate) fn failed(path: Arc<Path>, error: LogError) -> Self {
        Self {
            path,
            inner: Layout::Failed(Some(error)),
            previous: 0,
            to: 0,
            done: false,
        }
    }

    fn fail(&mut self, error: LogError) -> Option<Result<Envelope, LogError>> {
        self.done = true;
        Some(Err(error))
    }

    fn storage(&self, source: sled::Error) -> LogError {
        LogError::storage(&self.path, source)
    }

    #[inline(always)]
    fn next_per_key(&mut self) -> Option<Result<Envelope, LogError>> {
        let Layout::PerKey(iter) = &mut self.inner else {
            unreachable!()
        };
        let (key, value) = match iter.next()? {
            Ok(kv) => kv,
            Err(e) => {
                let e = self.storage(e);
                return self.fail(e);
            }
        };
        let seq = match seq_of_key(&self.path, &key) {
            Ok(seq) => seq,
            Err(e) => return self.fail(e),
        };
        if seq != self.previous + 1 {
            let gap = LogError::Gap {
                path: self.path.to_path_buf(),
                previous: self.previous,
                found: seq,
            };
            return self.fail(gap);
        }
        match decode_record(seq, &value) {
            Ok(env) => Some(Ok(env)),
            Err(source) => {
                let e = LogError::Corrupt {
                    path: self.path.to_path_buf(),
                    seq,
                    source,
                };
                self.fail(e)
            }
        }
    }

    // Inlined into `next` so the decoded envelope is built where the caller receives it: each
    // move of a ~300-byte `Result` costs a memcpy (measured: 24% fewer instructions a scan).
    #[inline(always)]
    fn next_from_blocks(&mut self) -> Option<Result<Envelope, LogError>> {
        loop {
            let Layout::Blocks { blocks, current } = &mut self.inner else {
                unreachable!()
            };
            if let Some(block) = current.as_mut().filter(|b| b.remaining > 0) {
                let seq = block.next_seq;
                let entries = &block.bytes[block.entries_at..];
                let decoded = take_entry(entries, &mut block.pos).and_then(|body| {
                    if seq > self.previous {
                        decode_body_of(block.version, seq, body).map(Some)
                    } else {
                        Ok(None) // before the range's start, inside the first block
                    }
                });
                block.next_seq += 1;
                block.remaining -= 1;
                match decoded {
                    Ok(Some(env)) => return Some(Ok(env)),
                    Ok(None) => continue,
                    Err(source) => {
                        let e = LogError::Corrupt {
                            path: self.path.to_path_buf(),
                            seq,
                            source,
                        };
                        return self.fail(e);
                    }
                }
            }
            let (key, bytes) = match blocks.next()? {
                Ok(kv) => kv,
                Err(e) => {
                    let e = self.storage(e);
                    return self.fail(e);
                }
            };
            let first_seq = match seq_of_key(&self.path, &key) {
                Ok(seq) => seq,
                Err(e) => return self.fail(e),
            };
            let reader = match BlockReader::open(first_seq, &bytes) {
                Ok(reader) => reader,
                Err(source) => {
                    let e = LogError::CorruptBlock {
                        path: self.path.to_path_buf(),
                        first_seq,
                        source,
                    };
                    return self.fail(e);
                }
            };
            let expected_next = current.as_ref().map(|b| b.next_seq);
            if let Some(expected) = expected_next.filter(|&n| n != first_seq) {
                let gap = LogError::Gap {
                    path: self.path.to_path_buf(),
                    previous: expected - 1,
                    found: first_seq,
                };
                return self.fail(gap);
            }
            if expected_next.is_none() && first_seq > self.previous + 1 {
                let gap = LogError::Gap {
                    path: self.path.to_path_buf(),
                    previous: self.previous,
                    found: first_seq,
                };
                return self.fail(gap);
            }
            let (version, count, entries_at) =
                (reader.version(), reader.count(), reader.entries_offset());
            *current = Some(OpenBlock {
                version,
                bytes,
                entries_at,
                pos: 0,
                next_seq: first_seq,
                remaining: count,
            });
        }
    }
}

impl Iterator for LogIter {
    type Item = Result<Envelope, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.inner {
            Layout::PerKey(_) => self.next_per_key(),
            Layout::Blocks { .. } => self.next_from_blocks(),
            Layout::Failed(ref mut error) => error.take().map(Err),
        };
        match &item {
            Some(Ok(env)) => {
                self.previous = env.seq;
                if env.seq >= self.to {
                    self.done = true;
                }
            }
            Some(Err(_)) | None => self.done = true,
        }
        item
    }
}
