//! Strategy mode: templates of entry and exit conditions over prices and indicators; the
//! condition language ([`expr`]) and its evaluation bar by bar ([`eval`]).

pub mod eval;
pub mod expr;
pub mod rules;
