//! One problem found in a configuration, named by the path of its field, so that the loader
//! can point at the line that holds it.

/// A problem with one field. `path` is like `bot[0].pair[1].exits.stop_loss_pct`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}
