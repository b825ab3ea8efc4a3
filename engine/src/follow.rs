//! Following a log that another process is writing.
//!
//! sled locks a database to one process, so a reader cannot open a log while a run writes it.
//! The writer therefore serves its own appends: [`FollowService`] listens on a Unix socket in
//! the log's directory (`charon.follow`), and [`follow`] (`charon log inspect --follow`) reads
//! them there, opening the log itself only while no writer holds it.
//!
//! An event is sent only once it is durable: the service syncs the log (group commit: one sync
//! covers every event appended before it) before it sends an event that no sync has covered yet,
//! so what a follower has seen survives any crash of the writer.
//!
//! The protocol: the client sends one line, `FOLLOW <seq>\n`, the first seq it wants; the
//! server answers with every event from that seq on, as it is appended, each as a frame: a
//! `u32` little-endian length of what follows, the event's seq as a `u64` little-endian, then
//! its log record (format byte, CRC32 binding the seq, body). The server closes the connection
//! when its run ends; a follower then catches up from the log itself and waits for the next
//! writer (a restarted run serves again), so following survives restarts and `kill -9`.

use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use charon_events::codec::{decode_record, encode_record};
use charon_events::{Envelope, EventLog, LogError, Seq};
use charon_replay::inspect::{render_json, render_text, Filter, Format};

/// What stops following a log, or serving one to followers.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{}: follow socket: {source}", dir.display())]
    Socket {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Address {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
    #[error("the follow socket: {0}")]
    Connection(#[source] std::io::Error),
    #[error("the follow socket sent a frame of {0} bytes: not the charon follow protocol")]
    BadFrame(u32),
    #[error("the follow socket sent a bad event at seq {seq}: {source}")]
    BadEvent {
        seq: Seq,
        #[source]
        source: charon_events::codec::CodecError,
    },
}

impl FollowError {
    /// Whether the input is at fault (exit 2): a log or path that is not one.
    pub fn is_bad_input(&self) -> bool {
        match self {
            FollowError::Log(error) => error.is_bad_input(),
            FollowError::Address { .. } => true,
            _ => false,
        }
    }
}

/// The socket's name inside the log's directory.
pub const SOCKET_NAME: &str = "charon.follow";

/// The longest record a follower accepts: far above any event's.
const MAX_FRAME: u32 = 1 << 20;

/// How often a follower looks for a writer while none serves the log.
const WRITER_POLL: Duration = Duration::from_millis(100);

/// A socket path's limit in `sockaddr_un` (108 bytes with the terminating NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The address of `dir`'s follow socket. A path too long for a Unix socket address is reached
/// through the directory's descriptor (`/proc/self/fd/N/charon.follow`, which Linux resolves
/// like the directory itself); the returned file keeps that descriptor open while it is used.
fn socket_address(dir: &Path) -> std::io::Result<(PathBuf, Option<std::fs::File>)> {
    let path = dir.join(SOCKET_NAME);
    if path.as_os_str().len() <= MAX_SOCKET_PATH {
        return Ok((path, None));
    }
    use std::os::fd::AsRawFd;
    let handle = std::fs::File::open(dir)?;
    let short = PathBuf::from(format!(
        "/proc/self/fd/{}/{SOCKET_NAME}",
        handle.as_raw_fd()
    ));
    Ok((short, Some(handle)))
}

/// The writer's side: serves a log's appends to followers until stopped (or dropped).
pub struct FollowService {
    socket: PathBuf,
    stopping: Arc<AtomicBool>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Each follower's connection, to cut on stop so no write can hold it up.
    connections: Arc<Mutex<Vec<UnixStream>>>,
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl FollowService {
    /// Listens on `log`'s follow socket. The caller holds the log open, so no other process
    /// can be serving it: a socket file left by a killed writer is stale and replaced.
    pub fn start(log: &EventLog) -> Result<Self, FollowError> {
        let dir = log.path().to_path_buf();
        let failed = |source: std::io::Error| FollowError::Socket {
            dir: dir.clone(),
            source,
        };
        let socket = dir.join(SOCKET_NAME);
        match std::fs::remove_file(&socket) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(failed(e)),
            _ => {}
        }
        let (address, _dir_handle) = socket_address(&dir).map_err(failed)?;
        let listener = UnixListener::bind(&address).map_err(failed)?;
        let stopping = Arc::new(AtomicBool::new(false));
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let connections = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let (log, stopping, connections) =
                (log.clone(), Arc::clone(&stopping), Arc::clone(&connections));
            let shutdown = shutdown.subscribe();
            std::thread::Builder::new()
                .name("charon-follow".into())
                .spawn(move || accept(listener, log, stopping, shutdown, connections))
                .map_err(failed)?
        };
        Ok(Self {
            socket,
            stopping,
            shutdown,
            connections,
            acceptor: Some(acceptor),
        })
    }

    /// Closes every follower's connection and waits for the service's threads, so that the
    /// log's last handle is the caller's again.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        self.shutdown.send_replace(true);
        for connection in self
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
        // Wake the acceptor, which is waiting for a connection.
        if let Some(dir) = self.socket.parent() {
            if let Ok((address, _handle)) = socket_address(dir) {
                let _ = UnixStream::connect(address);
            }
        }
        if let Ok(followers) = acceptor.join() {
            for follower in followers {
                let _ = follower.join();
            }
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for FollowService {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn accept(
    listener: UnixListener,
    log: EventLog,
    stopping: Arc<AtomicBool>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    connections: Arc<Mutex<Vec<UnixStream>>>,
) -> Vec<JoinHandle<()>> {
    let mut followers = Vec::new();
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(kept) = stream.try_clone() else {
            continue;
        };
        connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(kept);
        let (log, shutdown) = (log.clone(), shutdown.clone());
        let follower = std::thread::Builder::new()
            .name("charon-follower".into())
            .spawn(move || {
                // A follower that leaves or sends nonsense ends only its own connection.
                let _ = serve(&log, stream, shutdown);
            });
        if let Ok(follower) = follower {
            followers.push(follower);
        }
    }
    followers
}

/// Streams `log` from the seq the follower asks for until it leaves or the service stops.
fn serve(
    log: &EventLog,
    stream: UnixStream,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let from: Seq = line
        .trim()
        .strip_prefix("FOLLOW ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("expected `FOLLOW <seq>`, got {:?}", line.trim()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(stream);
    let mut tail = log.tail(from);
    let mut durable = 0;
    runtime.block_on(async {
        loop {
            let event = tokio::select! {
                event = tail.next() => event.map_err(|e| e.to_string())?,
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
            };
            // An event leaves the process only once it is on disk, as every side effect does
            // (DESIGN.md, durability): a follower never sees an event that a crash could take
            // back and a restart replace. One sync covers everything appended so far.
            if event.seq > durable {
                durable = log.last_seq();
                log.sync_through(durable).map_err(|e| e.to_string())?;
            }
            let record = encode_record(&event).map_err(|e| e.to_string())?;
            let len = u32::try_from(8 + record.len()).expect("a record far below 4 GiB");
            out.write_all(&len.to_le_bytes())
                .and_then(|()| out.write_all(&event.seq.to_le_bytes()))
                .and_then(|()| out.write_all(&record))
                .and_then(|()| out.flush())
                .map_err(|e| e.to_string())?;
        }
    })
}

/// What following a log printed: matching events shown, and the next seq it waits for.
#[derive(Debug, Default)]
struct Position {
    next: Seq,
    shown: u64,
}

/// Why following ends before `--to`.
enum Stop {
    /// Standard output's reader went away (`| head`): not a failure.
    ReaderGone,
    Failed(FollowError),
}

impl From<FollowError> for Stop {
    fn from(error: FollowError) -> Self {
        Stop::Failed(error)
    }
}

impl From<LogError> for Stop {
    fn from(error: LogError) -> Self {
        Stop::Failed(error.into())
    }
}

/// `charon log inspect LOG --follow`: prints the matching events of `path` as they are
/// appended, by whichever process writes it, until `filter.to` is passed, the output's reader
/// goes away, or forever. Events are shown once each, in seq order, across writers coming and
/// going. Returns how many were shown.
pub fn follow(
    path: &Path,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
) -> Result<u64, FollowError> {
    let (from, _) = filter.seq_range();
    let mut at = Position {
        next: from,
        shown: 0,
    };
    match follow_from(path, filter, format, out, &mut at) {
        Ok(()) | Err(Stop::ReaderGone) => Ok(at.shown),
        Err(Stop::Failed(failure)) => Err(failure),
    }
}

fn follow_from(
    path: &Path,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
    at: &mut Position,
) -> Result<(), Stop> {
    let (_, to) = filter.seq_range();
    // Whether the log may hold events no writer has served: true at the start and after a
    // writer leaves (it may have been killed between appending and sending).
    let mut read_log = true;
    let (address, _dir_handle) = socket_address(path).map_err(|source| FollowError::Address {
        path: path.to_path_buf(),
        source,
    })?;
    while at.next <= to {
        if let Ok(stream) = UnixStream::connect(&address) {
            read_stream(stream, filter, format, out, at)?;
            read_log = true;
            continue;
        }
        if read_log {
            match EventLog::open(path) {
                Ok(log) => {
                    for event in log.range(at.next, to) {
                        show(event?, filter, format, out, at)?;
                    }
                    read_log = false;
                    continue;
                }
                // A writer has it and will serve it in a moment.
                Err(LogError::Locked { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        std::thread::sleep(WRITER_POLL);
    }
    Ok(())
}

fn show(
    event: Envelope,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
    at: &mut Position,
) -> Result<(), Stop> {
    if event.seq < at.next {
        return Ok(()); // already shown
    }
    at.next = event.seq + 1;
    if filter.matches(&event) {
        let line = match format {
            Format::Text => render_text(&event),
            Format::JsonLines => render_json(&event),
        };
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| match e.kind() {
                ErrorKind::BrokenPipe => Stop::ReaderGone,
                _ => Stop::Failed(FollowError::Output(e)),
            })?;
        at.shown += 1;
    }
    Ok(())
}

/// Reads a writer's frames until it closes the connection (or `filter.to` is passed).
fn read_stream(
    stream: UnixStream,
    filter: &Filter,
    format: Format,
    out: &mut impl Write,
    at: &mut Position,
) -> Result<(), Stop> {
    let (_, to) = filter.seq_range();
    let mut writer = stream.try_clone().map_err(FollowError::Connection)?;
    if writer
        .write_all(format!("FOLLOW {}\n", at.next).as_bytes())
        .is_err()
    {
        return Ok(()); // the writer went away at once: look again
    }
    let mut reader = BufReader::new(stream);
    while at.next <= to {
        let mut len = [0u8; 4];
        if reader.read_exact(&mut len).is_err() {
            return Ok(()); // the writer ended its run or was killed
        }
        let len = u32::from_le_bytes(len);
        if !(8..=MAX_FRAME).contains(&len) {
            return Err(Stop::Failed(FollowError::BadFrame(len)));
        }
        let mut frame = vec![0u8; len as usize];
        if reader.read_exact(&mut frame).is_err() {
            return Ok(());
        }
        let seq = Seq::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
        let event = decode_record(seq, &frame[8..])
            .map_err(|source| FollowError::BadEvent { seq, source })?;
        show(event, filter, format, out, at)?;
    }
    Ok(())
}
