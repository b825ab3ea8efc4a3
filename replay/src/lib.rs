//! Runs over recorded inputs, and what reads a run. [`run`] is the one run every mode shares
//! (a configuration's actors under the Journal, between a source of inputs and a sink), and
//! [`backtest`], [`what_if`], [`verify`], [`diff`], [`sweep`] and [`split`] are made of it;
//! [`report`], [`statistics`], [`html`], [`inspect`], [`export`] and [`stats`] read a run's
//! events for people and other tools.

pub mod backtest;
pub mod diff;
pub mod export;
pub mod fields;
pub mod html;
pub mod inspect;
pub mod report;
pub mod run;
pub mod split;
pub mod statistics;
pub mod stats;
pub mod sweep;
pub mod verify;
pub mod what_if;
