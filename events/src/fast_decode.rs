//! A hand-written decoder for the hot path of every scan: the envelope header and the market
//! payloads (trade, book ticker, bar, funding rate, mark price). It reads exactly bincode 2's
//! standard wire format (varint integers, zigzag for signed, `u8` tags for `Option` and `bool`,
//! `u32` varint enum indices) and builds the envelope in place, instead of threading large
//! `Result`s through bincode's generic layers, which costs several times the decoding itself.
//! Every other payload is handed to bincode. The codec's property tests hold the two paths to
//! the same answers.

use crate::codec::CodecError;
use crate::envelope::{Envelope, Origin};
use crate::event::Event;
use crate::ids::{ActorId, BotId, Seq, ShortName, Symbol, Timestamp, Venue};
use crate::money::{decimal_from_wire, Price, Quantity, Rate};
use crate::payload::market::{Aggressor, Bar, BookTicker, FundingRate, Interval, MarkPrice, Trade};

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

#[cold]
#[inline(never)]
fn malformed(what: &str) -> CodecError {
    CodecError::Decode(format!("malformed {what}"))
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let end = self.pos + N;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| malformed("body: truncated"))?;
        self.pos = end;
        Ok(slice.try_into().expect("slice of length N"))
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take::<1>()?[0])
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64, CodecError> {
        Ok(match self.u8()? {
            byte @ 0..=250 => u64::from(byte),
            251 => u64::from(u16::from_le_bytes(self.take()?)),
            252 => u64::from(u32::from_le_bytes(self.take()?)),
            253 => u64::from_le_bytes(self.take()?),
            _ => return Err(malformed("varint")),
        })
    }

    /// An enum index: bincode writes it as a `u32` varint and rejects the 8-byte form.
    #[inline(always)]
    fn tag(&mut self) -> Result<u64, CodecError> {
        match self.bytes.get(self.pos) {
            Some(253) | Some(254) | Some(255) => Err(malformed("enum tag")),
            _ => self.varint(),
        }
    }

    #[inline(always)]
    fn zigzag(&mut self) -> Result<i64, CodecError> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    #[inline(always)]
    fn bool(&mut self) -> Result<bool, CodecError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(malformed("bool")),
        }
    }

    #[inline(always)]
    fn present(&mut self) -> Result<bool, CodecError> {
        self.bool().map_err(|_| malformed("option tag"))
    }

    #[inline(always)]
    fn decimal(&mut self) -> Result<rust_decimal::Decimal, CodecError> {
        decimal_from_wire(self.take::<16>()?).ok_or_else(|| malformed("decimal"))
    }

    #[inline(always)]
    fn name(&mut self) -> Result<ShortName, CodecError> {
        let len = self.u8()? as usize;
        let bytes = self
            .bytes
            .get(self.pos..self.pos + len)
            .ok_or_else(|| malformed("name"))?;
        self.pos += len;
        ShortName::from_wire(bytes).ok_or_else(|| malformed("name"))
    }

    #[inline(always)]
    fn timestamp(&mut self) -> Result<Timestamp, CodecError> {
        self.zigzag().map(Timestamp)
    }
}

/// Decodes a record body (see `codec::decode_body`).
pub(crate) fn decode_body(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let mut cur = Cursor { bytes, pos: 0 };
    let ts = cur.timestamp()?;
    let origin = match cur.tag()? {
        0 => Origin::Input,
        1 => Origin::Derived(match cur.tag()? {
            0 => ActorId::Journal,
            1 => ActorId::Bot(BotId(cur.name()?)),
            2 => ActorId::Pair(Symbol(cur.name()?)),
            3 => ActorId::RiskSupervisor(BotId(cur.name()?)),
            4 => ActorId::Exchange(Venue(cur.name()?)),
            _ => return Err(malformed("actor id")),
        }),
        _ => return Err(malformed("origin")),
    };
    let cause = if cur.present()? {
        Some(cur.varint()?)
    } else {
        None
    };
    let bot = if cur.present()? {
        Some(BotId(cur.name()?))
    } else {
        None
    };
    let pair = if cur.present()? {
        Some(Symbol(cur.name()?))
    } else {
        None
    };
    let payload_at = cur.pos;
    let payload = match cur.tag()? {
        0 => Event::Trade(Trade {
            trade_id: cur.varint()?,
            price: Price(cur.decimal()?),
            qty: Quantity(cur.decimal()?),
            aggressor: match cur.tag()? {
                0 => Aggressor::Buyer,
                1 => Aggressor::Seller,
                2 => Aggressor::Unknown,
                _ => return Err(malformed("aggressor")),
            },
        }),
        1 => Event::BookTicker(BookTicker {
            update_id: cur.varint()?,
            bid: Price(cur.decimal()?),
            bid_qty: Quantity(cur.decimal()?),
            ask: Price(cur.decimal()?),
            ask_qty: Quantity(cur.decimal()?),
        }),
        2 => Event::Bar(Bar {
            interval: Interval(u32::try_from(cur.tag()?).map_err(|_| malformed("interval"))?),
            open_time: cur.timestamp()?,
            open: Price(cur.decimal()?),
            high: Price(cur.decimal()?),
            low: Price(cur.decimal()?),
            close: Price(cur.decimal()?),
            volume: Quantity(cur.decimal()?),
            trades: if cur.present()? {
                Some(cur.varint()?)
            } else {
                None
            },
            closed: cur.bool()?,
        }),
        3 => Event::FundingRate(FundingRate {
            rate: Rate(cur.decimal()?),
            funding_time: cur.timestamp()?,
        }),
        4 => Event::MarkPrice(MarkPrice {
            mark: Price(cur.decimal()?),
            index: if cur.present()? {
                Some(Price(cur.decimal()?))
            } else {
                None
            },
            funding_rate: if cur.present()? {
                Some(Rate(cur.decimal()?))
            } else {
                None
            },
            next_funding_time: if cur.present()? {
                Some(cur.timestamp()?)
            } else {
                None
            },
        }),
        _ => {
            let rest = &bytes[payload_at..];
            let (payload, used): (Event, usize) =
                bincode::decode_from_slice(rest, crate::codec::wire_config())
                    .map_err(|e| CodecError::Decode(e.to_string()))?;
            cur.pos = payload_at + used;
            payload
        }
    };
    if cur.pos != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - cur.pos));
    }
    Ok(Envelope {
        seq,
        ts,
        origin,
        cause,
        bot,
        pair,
        payload,
    })
}
