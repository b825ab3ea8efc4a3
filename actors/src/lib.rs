//! The deterministic core: the [`journal`] (the sequencer, direct and actix drivers), the
//! [`bot`], the [`pair`], the [`risk`] supervisor and the simulated [`exchange`], built from a
//! configuration by [`setup`]; and what they are made of: configuration and its one loader
//! ([`config`]), bars, indicators and the strategy condition language. No I/O, no wall clock,
//! no randomness.

pub mod bars;
pub mod bot;
pub mod config;
pub mod exchange;
pub mod gates;
pub mod indicators;
pub mod journal;
pub mod pair;
pub mod risk;
pub mod setup;
pub mod strategy;

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod testkit;
