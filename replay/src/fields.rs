//! Where two events differ, field by field: the leaf paths of their JSON at which the values
//! are not the same. Verification and diff both show a divergence this way.

use serde_json::Value;

/// The leaf fields where two JSON values differ, as (dotted path, first, second), in path
/// order.
pub fn differing_fields(first: &Value, second: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    walk("", first, second, &mut out);
    out
}

fn walk(path: &str, first: &Value, second: &Value, out: &mut Vec<(String, String, String)>) {
    match (first, second) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let null = Value::Null;
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(
                    &child,
                    a.get(key).unwrap_or(&null),
                    b.get(key).unwrap_or(&null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push((path.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_leaves_that_differ_are_named_by_their_paths() {
        let a = json!({"seq": 7, "payload": {"price": "1.5", "qty": "2", "side": "buy"}});
        let b = json!({"seq": 7, "payload": {"price": "1.6", "qty": "2"}, "extra": true});
        assert_eq!(
            differing_fields(&a, &b),
            [
                ("extra".to_string(), "null".to_string(), "true".to_string()),
                ("payload.price".into(), "\"1.5\"".into(), "\"1.6\"".into()),
                ("payload.side".into(), "\"buy\"".into(), "null".into()),
            ]
        );
        assert!(differing_fields(&a, &a).is_empty());
    }
}
