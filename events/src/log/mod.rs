//! [`EventLog`]: the append-only, sled-backed log of events that is charon's source of truth.
//!
//! One API over two layouts ([`Layout`], recorded in the log's meta tree):
//! - **blocks**, every new log: events in CRC'd blocks of about [`BLOCK_TARGET_BYTES`] (key =
//!   the block's first seq), so a scan runs at decode speed instead of sled's per-key speed.
//!   The newest block stays open in memory and is rewritten as it grows; it reaches sled when
//!   it fills, before any read, at every `sync_through` and when the log closes.
//! - **per key**, run and live logs written before blocks: one framed record per key (key =
//!   seq, big-endian). Still read, and appended to when such a log is continued.
//!
//! Seqs are contiguous from 1. After a crash the log reopens at the last event sled recovered;
//! everything that a returned `sync_through` covered is among them.

mod bodies;
mod create;
mod decoded;
mod durability;
mod error;
mod iter;
mod meta;
mod readahead;
mod snapshots;
mod tail;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::codec::{encode_record, BlockReader, BlockWriter, CodecError, FORMAT_VERSION};
use crate::envelope::Envelope;
use crate::ids::Seq;
use durability::Durability;
use readahead::BlockSource;
use sled::IVec;

pub use bodies::{BodyIter, StoredBody};
pub use decoded::DecodedAhead;
pub use error::LogError;
pub use iter::LogIter;
pub use meta::{Layout, LogKind, LogMeta};
pub use snapshots::{KEPT_SNAPSHOTS, SNAPSHOTS_TREE};
pub use tail::Tail;

/// Blocks close once their entries reach this many bytes. Small enough that a sled
/// leaf of 17 blocks stays under sled's blob threshold (128 KiB with 512 KiB segments), large
/// enough that per-key costs vanish in a scan.
pub const BLOCK_TARGET_BYTES: usize = 4 * 1024;

/// Ranges at least this long are read ahead on a thread of their own: a spawn
/// costs microseconds, a long cold scan saves a third of its time.
pub const READ_AHEAD_MIN_EVENTS: u64 = 20_000;

const META_TREE: &[u8] = b"charon.meta";
/// The sled tree holding the events (named here for tools and tests that examine raw storage).
pub const EVENTS_TREE: &[u8] = b"charon.events";
const META_KEY: &[u8] = b"log";
use meta::LAYOUT_KEY;

/// A handle to an open log; clones share it.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    path: Arc<Path>,
    meta: LogMeta,
    layout: Layout,
    db: sled::Db,
    events: sled::Tree,
    writer: Mutex<Writer>,
    durability: Durability,
    appended: watch::Sender<Seq>,
    /// Declared after sled's handles so that it drops after them.
    lock_release: SledLockRelease,
}

struct Writer {
    next_seq: Seq,
    /// Block layout only: the newest, still growing block.
    block: Option<BlockWriter>,
    /// The open block holds events that sled does not have yet.
    block_dirty: bool,
}

impl Drop for Inner {
    /// The open block lives only in memory until it fills, a read publishes it or a
    /// `sync_through` runs; hand it to sled here so that closing the log keeps every appended
    /// event (sled flushes its trees when they drop, right after this).
    fn drop(&mut self) {
        let writer = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(block) = writer.block.as_ref().filter(|_| writer.block_dirty) {
            // Nowhere to report a failure; it leaves the log as a crash would: consistent,
            // without the unsynced tail.
            let key = key_of(block.first_seq());
            let _ = self.events.insert(key, block.encode());
        }
        // Every `LogIter` holds a clone of `path` and a sled iterator: with one alive, sled
        // stays open after this handle, so there is no release to wait for.
        self.lock_release.armed = Arc::strong_count(&self.path) == 1;
    }
}

/// Waits, when the last handle to a log drops, until sled has let go of its lock on the log's
/// `db` file, so that the log can be reopened at once. sled 0.34's background threads (its I/O
/// thread pool, the flusher) hold the locked file a moment after the last `sled::Db` drops;
/// until they finish, `open` would fail with [`LogError::Locked`].
struct SledLockRelease {
    db_file: std::path::PathBuf,
    armed: bool,
}

impl Drop for SledLockRelease {
    fn drop(&mut self) {
        if self.armed {
            wait_until_released(&self.db_file);
        }
    }
}

/// Waits until no sled handle holds the lock on `db_file`. Blocks only until sled's threads
/// close the file: no timeout, no polling. Closing our own file releases the lock again.
fn wait_until_released(db_file: &Path) {
    if let Ok(file) = fs::File::open(db_file) {
        let _ = fs2::FileExt::lock_exclusive(&file);
    }
}

pub(crate) fn key_of(seq: Seq) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(crate) fn seq_of_key(path: &Path, key: &[u8]) -> Result<Seq, LogError> {
    <[u8; 8]>::try_from(key)
        .map(Seq::from_be_bytes)
        .map_err(|_| LogError::BadKey {
            path: path.to_path_buf(),
            key: key.to_vec(),
        })
}

impl EventLog {
    /// Creates a new log at `path` (which must not exist, or be an empty directory).
    pub fn create(path: impl AsRef<Path>, kind: LogKind) -> Result<Self, LogError> {
        Self::create_with(path, LogMeta::new(kind))
    }

    /// Creates a new log with the given identity.
    pub fn create_with(path: impl AsRef<Path>, meta: LogMeta) -> Result<Self, LogError> {
        Self::create_in(path.as_ref(), meta, Layout::Blocks)
    }

    pub(crate) fn create_in(path: &Path, meta: LogMeta, layout: Layout) -> Result<Self, LogError> {
        if path.exists()
            && fs::read_dir(path)
                .map_err(|e| LogError::io(path, e))?
                .next()
                .is_some()
        {
            return Err(LogError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        // Built and synced beside `path`, then renamed into place: a crash at any moment
        // leaves no log or a whole one, and a log that `create` returned survives a crash.
        let staging = create::stage(path, &meta, layout)?;
        create::commit(&staging, path)?;
        Self::open(path)
    }

    /// [`EventLog::open`], waiting up to `patience` while another process has the log: one
    /// closing it, or a child it forked a moment ago (which shares sled's locked file until it
    /// execs). A lock held longer is [`LogError::Locked`].
    pub fn open_within(path: impl AsRef<Path>, patience: Duration) -> Result<Self, LogError> {
        const RETRY_EVERY: Duration = Duration::from_millis(10);
        let started = Instant::now();
        loop {
            match Self::open(path.as_ref()) {
                Err(LogError::Locked { .. }) if started.elapsed() < patience => {
                    std::thread::sleep(RETRY_EVERY.min(patience));
                }
                other => return other,
            }
        }
    }

    /// Opens an existing log, recovering its last seq.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(LogError::NotFound {
                path: path.to_path_buf(),
            });
        }
        // Never let sled create a database inside some other directory.
        if !path.join("conf").is_file() || !path.join("db").is_file() {
            return Err(LogError::NotALog {
                path: path.to_path_buf(),
            });
        }
        let db = open_sled(path)?;
        let storage = |source| LogError::storage(path, source);
        let has_meta = db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == META_TREE);
        let meta_tree = if has_meta {
            Some(db.open_tree(META_TREE).map_err(storage)?)
        } else {
            None
        };
        let raw = match &meta_tree {
            Some(tree) => tree.get(META_KEY).map_err(storage)?,
            None => None,
        };
        let raw = raw.ok_or_else(|| LogError::MissingMeta {
            path: path.to_path_buf(),
        })?;
        let meta = match LogMeta::decode(&raw) {
            Ok(Ok(meta)) => meta,
            Ok(Err(found)) => {
                return Err(LogError::NewerFormat {
                    path: path.to_path_buf(),
                    found,
                    supported: FORMAT_VERSION,
                })
            }
            Err(reason) => {
                return Err(LogError::InvalidMeta {
                    path: path.to_path_buf(),
                    reason,
                })
            }
        };
        let marker = match &meta_tree {
            Some(tree) => tree.get(LAYOUT_KEY).map_err(storage)?,
            None => None,
        };
        let layout =
            Layout::of(marker.as_deref(), meta.kind).ok_or_else(|| LogError::InvalidMeta {
                path: path.to_path_buf(),
                reason: format!(
                    "unknown layout {:?}",
                    String::from_utf8_lossy(marker.as_deref().unwrap_or_default())
                ),
            })?;
        Self::assemble(path, db, meta, layout)
    }

    fn assemble(
        path: &Path,
        db: sled::Db,
        meta: LogMeta,
        layout: Layout,
    ) -> Result<Self, LogError> {
        let storage = |source| LogError::storage(path, source);
        let events = db.open_tree(EVENTS_TREE).map_err(storage)?;
        let (next_seq, block) = recover_tail(path, &events, layout)?;
        let last = next_seq - 1;
        let durability = Durability::open(path, last).map_err(|e| LogError::io(path, e))?;
        let (appended, _) = watch::channel(last);
        let inner = Inner {
            path: Arc::from(path),
            meta,
            layout,
            db,
            events,
            writer: Mutex::new(Writer {
                next_seq,
                block,
                block_dirty: false,
            }),
            durability,
            appended,
            lock_release: SledLockRelease {
                db_file: path.join("db"),
                armed: false,
            },
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn meta(&self) -> &LogMeta {
        &self.inner.meta
    }

    pub fn kind(&self) -> LogKind {
        self.inner.meta.kind
    }

    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    fn uses_blocks(&self) -> bool {
        self.inner.layout == Layout::Blocks
    }

    /// The last appended seq; 0 for an empty log.
    pub fn last_seq(&self) -> Seq {
        self.writer().next_seq - 1
    }

    /// The highest seq known to be on disk.
    pub fn durable_seq(&self) -> Seq {
        self.inner.durability.durable_seq()
    }

    /// How many disk syncs (fdatasync) this handle has issued; group commit keeps it low.
    pub fn sync_count(&self) -> u64 {
        self.inner.durability.sync_count()
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave the writer half-updated: `next_seq`
        // advances only after an event is stored.
        self.inner.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn storage(&self, source: sled::Error) -> LogError {
        LogError::storage(&self.inner.path, source)
    }

    fn encode_error(&self, source: CodecError) -> LogError {
        LogError::Encode {
            path: self.inner.path.to_path_buf(),
            source,
        }
    }

    /// Appends one event, assigning its seq (written into `event.seq` and returned).
    pub fn append(&self, event: &mut Envelope) -> Result<Seq, LogError> {
        let mut writer = self.writer();
        let seq = writer.next_seq;
        event.seq = seq;
        self.store(&mut writer, std::slice::from_ref(event))?;
        drop(writer);
        self.inner.appended.send_replace(seq);
        Ok(seq)
    }

    /// Appends events in order with consecutive seqs; returns the last seq. An error (or a
    /// crash) may leave a prefix of the batch appended, never a gap.
    pub fn append_batch(&self, events: &mut [Envelope]) -> Result<Seq, LogError> {
        let mut writer = self.writer();
        let first = writer.next_seq;
        for (offset, event) in events.iter_mut().enumerate() {
            event.seq = first + offset as u64;
        }
        self.store(&mut writer, events)?;
        let last = writer.next_seq - 1;
        drop(writer);
        if !events.is_empty() {
            self.inner.appended.send_replace(last);
        }
        Ok(last)
    }

    fn store(&self, writer: &mut Writer, events: &[Envelope]) -> Result<(), LogError> {
        if !self.uses_blocks() {
            // Plain inserts, not a `sled::Batch`: a batch is slower per key (measured 106k vs
            // 198k events/s), and a crash can only ever leave a prefix of the log, which is
            // what recovery expects anyway.
            for event in events {
                let record = encode_record(event).map_err(|e| self.encode_error(e))?;
                self.inner
                    .events
                    .insert(key_of(event.seq), record)
                    .map_err(|e| self.storage(e))?;
                writer.next_seq += 1;
            }
            return Ok(());
        }
        for event in events {
            let block = writer
                .block
                .get_or_insert_with(|| BlockWriter::new(event.seq));
            block.push(event).map_err(|e| self.encode_error(e))?;
            writer.next_seq += 1;
            writer.block_dirty = true;
            if block.entries_len() >= BLOCK_TARGET_BYTES {
                self.write_block(writer)?;
                writer.block = None;
            }
        }
        Ok(())
    }

    fn write_block(&self, writer: &mut Writer) -> Result<(), LogError> {
        if let Some(block) = writer.block.as_ref().filter(|_| writer.block_dirty) {
            let key = key_of(block.first_seq());
            self.inner
                .events
                .insert(key, block.encode())
                .map_err(|e| self.storage(e))?;
        }
        writer.block_dirty = false;
        Ok(())
    }

    /// Hands everything appended so far to sled; returns the last seq.
    fn publish(&self) -> Result<Seq, LogError> {
        let mut writer = self.writer();
        self.write_block(&mut writer)?;
        Ok(writer.next_seq - 1)
    }

    /// Returns once every event up to `seq` has reached the disk. Callers that arrive while a
    /// sync is running share the next one (group commit).
    pub fn sync_through(&self, seq: Seq) -> Result<(), LogError> {
        let path = &self.inner.path;
        self.inner.durability.sync_through(
            seq,
            || {
                let last = self.publish()?;
                if seq > last {
                    return Err(LogError::NotAppended {
                        path: path.to_path_buf(),
                        seq,
                        last,
                    });
                }
                self.inner.db.flush().map_err(|e| self.storage(e))?;
                Ok(last)
            },
            |source| LogError::io(path, source),
        )
    }

    /// The event at `seq`, if the log has it.
    pub fn get(&self, seq: Seq) -> Result<Option<Envelope>, LogError> {
        let last = self.publish()?;
        if seq == 0 || seq > last {
            return Ok(None);
        }
        let path = self.inner.path.to_path_buf();
        if !self.uses_blocks() {
            let Some(bytes) = self
                .inner
                .events
                .get(key_of(seq))
                .map_err(|e| self.storage(e))?
            else {
                return Err(LogError::Missing { path, seq });
            };
            return crate::codec::decode_record(seq, &bytes)
                .map(Some)
                .map_err(|source| LogError::Corrupt { path, seq, source });
        }
        let found = self.inner.events.range(..=key_of(seq)).next_back();
        let (key, bytes) = match found {
            Some(kv) => kv.map_err(|e| self.storage(e))?,
            None => return Err(LogError::Missing { path, seq }),
        };
        let first_seq = seq_of_key(&path, &key)?;
        let block =
            BlockReader::open(first_seq, &bytes).map_err(|source| LogError::CorruptBlock {
                path: path.clone(),
                first_seq,
                source,
            })?;
        block
            .get(seq)
            .map(Some)
            .map_err(|source| LogError::Corrupt { path, seq, source })
    }

    /// Events `from..=to` in order (clamped to what the log holds).
    pub fn range(&self, from: Seq, to: Seq) -> LogIter {
        self.range_with(from, to, true)
    }

    /// [`EventLog::range`], decoded on a second thread when the range is long
    /// ([`DecodedAhead`]): for a caller with work of its own per event.
    pub fn range_decoded_ahead(&self, from: Seq, to: Seq) -> DecodedAhead {
        DecodedAhead::new(self, from.max(1), to)
    }

    /// [`EventLog::range`] reading sled on the calling thread, whatever the range's length.
    pub(crate) fn range_in_place(&self, from: Seq, to: Seq) -> LogIter {
        self.range_with(from, to, false)
    }

    fn range_with(&self, from: Seq, to: Seq, read_ahead: bool) -> LogIter {
        let from = from.max(1);
        let path = Arc::clone(&self.inner.path);
        let last = match self.publish() {
            Ok(last) => last,
            // Surface the error through the iterator's first item.
            Err(e) => return LogIter::failed(path, e),
        };
        let to = to.min(last);
        let events = &self.inner.events;
        if !self.uses_blocks() {
            return LogIter::per_key(
                path,
                events.range(key_of(from)..=key_of(to.max(from))),
                from,
                to,
            );
        }
        match self.stored(from, to, read_ahead) {
            Ok(blocks) => LogIter::blocks(path, blocks, from, to),
            Err(e) => LogIter::failed(path, e),
        }
    }

    /// The stored bodies of `from..=to` in order (clamped to what the log holds), checked but
    /// not decoded.
    pub fn bodies(&self, from: Seq, to: Seq) -> Result<BodyIter, LogError> {
        let from = from.max(1);
        let to = to.min(self.publish()?);
        let source = self.stored(from, to, true)?;
        let path = Arc::clone(&self.inner.path);
        Ok(BodyIter::new(path, source, self.inner.layout, from, to))
    }

    /// The stored values holding seqs `from..=to`: from the block that holds `from` (in the
    /// block layout) or its own key, read ahead on a thread when the range is long and
    /// `read_ahead` allows.
    fn stored(&self, from: Seq, to: Seq, read_ahead: bool) -> Result<BlockSource, LogError> {
        let events = &self.inner.events;
        let holding_from = if self.uses_blocks() {
            events.range(..=key_of(from)).next_back()
        } else {
            None
        };
        let start = match holding_from {
            Some(found) => found.map_err(|e| self.storage(e))?.0,
            None => IVec::from(&key_of(from)),
        };
        // Values that start after `to` hold nothing of the range.
        let keys = start..=IVec::from(&key_of(to.max(from)));
        Ok(
            if read_ahead && to.saturating_sub(from) >= READ_AHEAD_MIN_EVENTS {
                BlockSource::read_ahead(events, keys)
            } else {
                BlockSource::Direct(Box::new(events.range(keys)))
            },
        )
    }

    /// Every event from `from` to the current end.
    pub fn iter_from(&self, from: Seq) -> LogIter {
        self.range(from, Seq::MAX)
    }

    /// Every event.
    pub fn iter(&self) -> LogIter {
        self.range(1, Seq::MAX)
    }

    /// Follows the log from `from`: yields what is there, then each event as it is appended.
    pub fn tail(&self, from: Seq) -> Tail {
        Tail::new(self.clone(), from, self.inner.appended.subscribe())
    }

    /// Bytes the log's directory takes on disk.
    pub fn bytes_on_disk(&self) -> Result<u64, LogError> {
        dir_size(&self.inner.path).map_err(|e| LogError::io(&self.inner.path, e))
    }
}

fn open_sled(path: &Path) -> Result<sled::Db, LogError> {
    sled::Config::new()
        .path(path)
        .open()
        .map_err(|source| match &source {
            // sled 0.34 reports a held file lock only through this message (ErrorKind::Other).
            sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock") => {
                LogError::Locked {
                    path: path.to_path_buf(),
                }
            }
            _ => LogError::storage(path, source),
        })
}

/// Finds the next seq to assign and, in the block layout, reopens the last block so that it keeps
/// growing instead of leaving a short block behind.
fn recover_tail(
    path: &Path,
    events: &sled::Tree,
    layout: Layout,
) -> Result<(Seq, Option<BlockWriter>), LogError> {
    let storage = |source| LogError::storage(path, source);
    let Some(last) = events.last().map_err(storage)? else {
        return Ok((1, None));
    };
    let (key, bytes) = last;
    let last_key = seq_of_key(path, &key)?;
    if layout == Layout::PerKey {
        return Ok((last_key + 1, None));
    }
    let corrupt = |source| LogError::CorruptBlock {
        path: path.to_path_buf(),
        first_seq: last_key,
        source,
    };
    let reader = BlockReader::open(last_key, &bytes).map_err(corrupt)?;
    let next_seq = last_key + u64::from(reader.count());
    // A block an older format wrote stays as it is: its bodies are in that version, and its
    // version byte speaks for all of them. New events start a block of their own.
    if reader.entries_len() >= BLOCK_TARGET_BYTES || reader.version() != FORMAT_VERSION {
        return Ok((next_seq, None));
    }
    let block = BlockWriter::reopen(&reader).map_err(corrupt)?;
    Ok((next_seq, Some(block)))
}

/// Bytes a directory tree takes (file lengths, recursively).
pub fn dir_size(path: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod legacy_tests;
#[cfg(test)]
mod version_tests;
