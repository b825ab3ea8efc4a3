//! A divergence for people: the recorded and the re-derived event side by side, the fields in
//! which they differ, the input at the root of the cascade, and the preceding events of the
//! same bot and pair.

use charon_events::Envelope;

use super::{Divergence, CONTEXT};
use crate::fields::differing_fields;
use crate::inspect::render_json;

/// The report `replay verify` prints for a divergence.
pub fn describe(divergence: &Divergence) -> String {
    let show = |event: &Option<Envelope>| {
        event
            .as_ref()
            .map_or_else(|| "(nothing)".to_string(), render_json)
    };
    let mut text = format!(
        "divergence at seq {}\n  recorded:    {}\n  re-derived:  {}\n",
        divergence.seq,
        show(&divergence.recorded),
        show(&divergence.rederived)
    );
    if let (Some(recorded), Some(rederived)) = (&divergence.recorded, &divergence.rederived) {
        let differences = differing_fields(
            &serde_json::to_value(recorded).unwrap_or_default(),
            &serde_json::to_value(rederived).unwrap_or_default(),
        );
        for (path, was, now) in differences {
            text.push_str(&format!(
                "  differs in {path}: recorded {was}, re-derived {now}\n"
            ));
        }
    }
    if let Some(input) = &divergence.input {
        text.push_str(&format!(
            "caused by input {} of the data log:\n  {}\n",
            input.seq,
            render_json(input)
        ));
    }
    let context: Vec<&Envelope> = divergence.context.iter().rev().take(CONTEXT).collect();
    if !context.is_empty() {
        text.push_str("preceding events of the same bot and pair (recorded, identical):\n");
        for event in context.into_iter().rev() {
            text.push_str(&format!("  {}\n", render_json(event)));
        }
    }
    text
}
