//! Places where Wallet shows the pass on the lock screen (`[wallet]
//! locations`, at most 10, as Apple allows).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The most locations a pass may carry.
pub const MAX_LOCATIONS: usize = 10;

/// One place near which the pass is relevant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassLocation {
    /// Latitude in degrees (-90 to 90).
    pub latitude: f64,
    /// Longitude in degrees (-180 to 180).
    pub longitude: f64,
    /// The lock-screen line near it, e.g. "Your stamps are a minute away".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// Checks a list of locations; the reason names the bad one (1-based).
pub fn check(locations: &[PassLocation]) -> Result<(), String> {
    if locations.len() > MAX_LOCATIONS {
        return Err(format!(
            "{} locations; a pass carries at most {MAX_LOCATIONS}",
            locations.len()
        ));
    }
    for (i, l) in locations.iter().enumerate() {
        let n = i + 1;
        if !(-90.0..=90.0).contains(&l.latitude) {
            return Err(format!(
                "location {n}: latitude {} is not -90 to 90",
                l.latitude
            ));
        }
        if !(-180.0..=180.0).contains(&l.longitude) {
            return Err(format!(
                "location {n}: longitude {} is not -180 to 180",
                l.longitude
            ));
        }
        if l.text.chars().count() > 100 || l.text.chars().any(char::is_control) {
            return Err(format!(
                "location {n}: the text is one line of at most 100 characters"
            ));
        }
    }
    Ok(())
}

/// The `locations` array of pass.json.
pub fn to_json(locations: &[PassLocation]) -> Value {
    Value::Array(
        locations
            .iter()
            .map(|l| {
                let mut v = json!({ "latitude": l.latitude, "longitude": l.longitude });
                if !l.text.is_empty() {
                    v["relevantText"] = l.text.clone().into();
                }
                v
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(latitude: f64, longitude: f64) -> PassLocation {
        PassLocation {
            latitude,
            longitude,
            text: String::new(),
        }
    }

    #[test]
    fn up_to_ten_places_on_the_globe() {
        assert!(check(&vec![at(52.5, 13.4); 10]).is_ok());
        assert!(
            check(&vec![at(52.5, 13.4); 11])
                .unwrap_err()
                .contains("at most 10")
        );
        assert!(
            check(&[at(91.0, 0.0)])
                .unwrap_err()
                .contains("location 1: latitude")
        );
        assert!(
            check(&[at(0.0, 0.0), at(0.0, -181.0)])
                .unwrap_err()
                .contains("location 2")
        );
        let json = to_json(&[PassLocation {
            text: "Coffee nearby".into(),
            ..at(1.5, 2.5)
        }]);
        assert_eq!(json[0]["relevantText"], "Coffee nearby");
        assert_eq!(json[0]["latitude"], 1.5);
    }
}
