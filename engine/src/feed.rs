//! A market feed over TCP: [`FeedServer`] (`charon feed`) serves a recorded data log to a
//! paper run in another process, and [`FeedClient`] is how the run reads it. The protocol is small on purpose,
//! and it is what lets a killed run pick up exactly where its log ends:
//!
//! - the client connects and sends one line, `RESUME <n>\n`, where `n` is how many of the
//!   feed's events it already holds (0 on a fresh run);
//! - the server answers with the events from the `n+1`-th on, each as a frame: a `u32`
//!   little-endian length, then the event's log record (format byte, CRC32, body: the same
//!   bytes a log stores, so the CRC travels with the event);
//! - after the last event, a frame of length 0 says the feed is over.
//!
//! A frame that fails its CRC or does not decode is counted and reported by the client, and
//! skipped: a bad message never stops the run nor reaches the actors.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};

use charon_events::codec::{decode_record, encode_record};
use charon_events::{Envelope, EventLog};

/// The longest frame a client accepts: far above any event's record.
const MAX_FRAME: u32 = 1 << 20;

/// What stops a feed or its client.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the listening address: {0}")]
    Address(#[source] std::io::Error),
    #[error("cannot reach the feed at {address}: {source}")]
    Unreachable {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the feed at {address}: {source}")]
    Request {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The connection ended without the end frame (the run stops, and its restart resumes
    /// from its log).
    #[error("the feed connection: {0}")]
    Lost(#[source] std::io::Error),
    #[error("the feed sent a frame of {0} bytes: not the charon feed protocol")]
    Oversized(u32),
}

impl FeedError {
    /// Whether the input is at fault (an address that cannot be listened on: exit 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, FeedError::Listen { .. })
    }
}

/// A feed bound to its address, ready to serve.
pub struct FeedServer {
    listener: TcpListener,
}

impl FeedServer {
    /// Listens on `address` (port 0: any free port).
    pub fn bind(address: &str) -> Result<Self, FeedError> {
        let listener = TcpListener::bind(address).map_err(|source| FeedError::Listen {
            address: address.to_string(),
            source,
        })?;
        Ok(FeedServer { listener })
    }

    /// The address it listens on.
    pub fn address(&self) -> Result<std::net::SocketAddr, FeedError> {
        self.listener.local_addr().map_err(FeedError::Address)
    }

    /// Serves `data` to one client after another, `connections` of them if given.
    pub fn serve(&self, data: &EventLog, connections: Option<u64>) {
        for (served, stream) in (1u64..).zip(self.listener.incoming()) {
            // A client that went away mid-stream (a killed run) is the normal case: serve the
            // next.
            match stream {
                Ok(stream) => {
                    if let Err(error) = serve(data, stream) {
                        tracing::info!(%error, "feed: a client left: {error}");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "feed: a connection failed: {error}")
                }
            }
            if connections.is_some_and(|limit| served >= limit) {
                break;
            }
        }
    }
}

fn serve(data: &EventLog, stream: TcpStream) -> Result<(), String> {
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let held: u64 = line
        .trim()
        .strip_prefix("RESUME ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("expected `RESUME <n>`, got {:?}", line.trim()))?;
    let mut out = BufWriter::with_capacity(1 << 16, stream);
    for event in data.iter_from(held + 1) {
        let event = event.map_err(|e| e.to_string())?;
        let record = encode_record(&event).map_err(|e| e.to_string())?;
        write_frame(&mut out, &record).map_err(|e| e.to_string())?;
    }
    write_frame(&mut out, &[]).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

fn write_frame(out: &mut impl Write, record: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(record.len()).expect("a record far below 4 GiB");
    out.write_all(&len.to_le_bytes())?;
    out.write_all(record)
}

/// What the client read next.
#[derive(Debug)]
pub enum FeedItem {
    Event(Box<Envelope>),
    /// A frame that failed its CRC or did not decode: skipped, with why.
    Malformed(String),
    /// The server said the feed is over.
    End,
}

/// A paper run's end of the feed protocol.
pub struct FeedClient {
    stream: BufReader<TcpStream>,
    /// Frames received so far (malformed ones included): the position a resume continues from.
    received: u64,
}

impl FeedClient {
    /// Connects to `address` and asks for the events after the first `held`.
    pub fn connect(address: &str, held: u64) -> Result<Self, FeedError> {
        let mut stream = TcpStream::connect(address).map_err(|source| FeedError::Unreachable {
            address: address.to_string(),
            source,
        })?;
        stream
            .write_all(format!("RESUME {held}\n").as_bytes())
            .map_err(|source| FeedError::Request {
                address: address.to_string(),
                source,
            })?;
        Ok(Self {
            stream: BufReader::with_capacity(1 << 16, stream),
            received: held,
        })
    }

    /// The next item; a connection that closes without the end frame is a failure (the run
    /// stops, and its restart resumes from its log).
    pub fn next_item(&mut self) -> Result<FeedItem, FeedError> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).map_err(FeedError::Lost)?;
        let len = u32::from_le_bytes(len);
        if len == 0 {
            return Ok(FeedItem::End);
        }
        if len > MAX_FRAME {
            return Err(FeedError::Oversized(len));
        }
        let mut record = vec![0u8; len as usize];
        self.stream
            .read_exact(&mut record)
            .map_err(FeedError::Lost)?;
        self.received += 1;
        Ok(match decode_record(self.received, &record) {
            Ok(event) => FeedItem::Event(Box::new(event)),
            Err(error) => FeedItem::Malformed(format!("feed event {}: {error}", self.received)),
        })
    }
}
