//! The vocabulary of charon: ids, exact money types, every event and its envelope, the codec
//! that frames them, and the sled-backed [`EventLog`] they are appended to. No actors, no
//! network.

pub mod codec;
pub mod envelope;
pub mod event;
pub mod ids;
pub mod log;
pub mod money;
pub mod payload;
pub mod samples;

pub use envelope::{Envelope, Origin};
pub use event::{Event, EventKind};
pub use ids::{ActorId, BotId, ClientOrderId, LogId, Seq, ShortName, Symbol, Timestamp, Venue};
pub use log::{EventLog, LogError, LogKind, LogMeta};
pub use money::{Money, Num, Price, Quantity, Rate};
