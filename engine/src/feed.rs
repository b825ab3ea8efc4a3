//! A market feed over TCP: `charon feed` serves a recorded data log to a paper run in another
//! process, and [`FeedClient`] is how the run reads it. The protocol is small on purpose,
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
use std::path::PathBuf;

use charon_events::codec::{decode_record, encode_record};
use charon_events::{Envelope, EventLog, LogKind};
use clap::Args;

use crate::failure::Failure;
use crate::open_log::open_existing;

/// The longest frame a client accepts: far above any event's record.
const MAX_FRAME: u32 = 1 << 20;

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// The data log to serve.
    pub data: PathBuf,
    /// Where to listen, e.g. `127.0.0.1:7400` (port 0: any free port). The address is printed
    /// as `listening on ADDR` once the feed accepts connections.
    #[arg(long, default_value = "127.0.0.1:7400")]
    pub listen: String,
    /// Serve this many connections, then exit (default: until stopped).
    #[arg(long)]
    pub connections: Option<u64>,
}

/// `charon feed`: serves the data log to one client after another.
pub fn run(args: FeedArgs) -> Result<(), Failure> {
    let data = open_existing(&args.data)?;
    if data.kind() != LogKind::Data {
        return Err(Failure::BadInput(format!(
            "{}: a {:?} log, not a data log",
            args.data.display(),
            data.kind()
        )));
    }
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| Failure::BadInput(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure::Failed(format!("the listening address: {e}")))?;
    outln!("listening on {address}");
    std::io::stdout()
        .flush()
        .map_err(|e| Failure::Failed(format!("stdout: {e}")))?;
    for (served, stream) in (1u64..).zip(listener.incoming()) {
        // A client that went away mid-stream (a killed run) is the normal case: serve the next.
        match stream {
            Ok(stream) => {
                if let Err(error) = serve(&data, stream) {
                    eprintln!("charon feed: a client left: {error}");
                }
            }
            Err(error) => eprintln!("charon feed: a connection failed: {error}"),
        }
        if args.connections.is_some_and(|limit| served >= limit) {
            break;
        }
    }
    Ok(())
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
    pub fn connect(address: &str, held: u64) -> Result<Self, Failure> {
        let mut stream = TcpStream::connect(address)
            .map_err(|e| Failure::Failed(format!("cannot reach the feed at {address}: {e}")))?;
        stream
            .write_all(format!("RESUME {held}\n").as_bytes())
            .map_err(|e| Failure::Failed(format!("the feed at {address}: {e}")))?;
        Ok(Self {
            stream: BufReader::with_capacity(1 << 16, stream),
            received: held,
        })
    }

    /// The next item; a connection that closes without the end frame is a failure (the run
    /// stops, and its restart resumes from its log).
    pub fn next_item(&mut self) -> Result<FeedItem, Failure> {
        let lost = |e: std::io::Error| Failure::Failed(format!("the feed connection: {e}"));
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).map_err(lost)?;
        let len = u32::from_le_bytes(len);
        if len == 0 {
            return Ok(FeedItem::End);
        }
        if len > MAX_FRAME {
            return Err(Failure::Failed(format!(
                "the feed sent a frame of {len} bytes: not the charon feed protocol"
            )));
        }
        let mut record = vec![0u8; len as usize];
        self.stream.read_exact(&mut record).map_err(lost)?;
        self.received += 1;
        Ok(match decode_record(self.received, &record) {
            Ok(event) => FeedItem::Event(Box::new(event)),
            Err(error) => FeedItem::Malformed(format!("feed event {}: {error}", self.received)),
        })
    }
}
