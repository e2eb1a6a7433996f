//! The operator's facility and beamlines (`[facility]`): a deposit that names one of them
//! (through the form or the API) gets its identifiers recorded with it.

use serde_json::{Value, json};

/// The identifiers of the operator's facility and beamlines, recorded when a deposit names
/// them (by name, ignoring case): the facility's ROR id where none is given, and a
/// configured beamline's PID (the name says which instrument it is, so a PID kept from
/// another beamline is replaced). Names typed that are not in the list are kept as typed.
pub(super) fn apply(facility: &mut Value, known: &crate::config::FacilitySettings) {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    if let (Some(ror), Some(f)) = (&known.ror, facility.get_mut("facility"))
        && f.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| same(n, &known.name))
        && f.get("ror").is_none()
    {
        f["ror"] = json!(ror);
    }
    let Some(b) = facility.get_mut("beamline") else {
        return;
    };
    let Some(name) = b.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let pid = match known.beamlines.iter().find(|k| same(&k.name, &name)) {
        Some(k) => {
            b["name"] = json!(k.name);
            k.pid.clone()
        }
        // Typed outside the list: a PID the list gave another beamline is not its own.
        None => b
            .get("identifier")
            .and_then(Value::as_str)
            .filter(|id| {
                !known
                    .beamlines
                    .iter()
                    .any(|k| k.pid.as_deref() == Some(*id))
            })
            .map(str::to_owned),
    };
    match pid {
        Some(pid) => b["identifier"] = json!(pid),
        None => {
            if let Some(o) = b.as_object_mut() {
                o.remove("identifier");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_facility_and_beamlines_bring_their_identifiers() {
        let known = crate::config::FacilitySettings {
            name: "Diamond Light Source".into(),
            ror: Some("https://ror.org/05etxs293".into()),
            beamlines: vec![
                crate::config::BeamlineSetting {
                    name: "I04".into(),
                    pid: Some("10.5442/ni000004".into()),
                },
                crate::config::BeamlineSetting {
                    name: "I03".into(),
                    pid: None,
                },
            ],
        };
        let mut f = json!({"facility": {"name": "diamond light source"},
                           "beamline": {"name": "i04"}});
        apply(&mut f, &known);
        assert_eq!(f["facility"]["ror"], "https://ror.org/05etxs293");
        assert_eq!(
            f["beamline"],
            json!({"name": "I04", "identifier": "10.5442/ni000004"})
        );
        // Another beamline of the list: the old PID goes; one typed outside it is kept.
        f["beamline"]["name"] = json!("I03");
        apply(&mut f, &known);
        assert_eq!(f["beamline"], json!({"name": "I03"}));
        let mut typed = json!({"facility": {"name": "ESRF"}, "beamline": {"name": "ID23-1", "identifier": "x"}});
        apply(&mut typed, &known);
        assert_eq!(
            typed,
            json!({"facility": {"name": "ESRF"}, "beamline": {"name": "ID23-1", "identifier": "x"}})
        );
        // Renamed away from a listed beamline: its PID does not follow.
        let mut renamed = json!({"beamline": {"name": "B21", "identifier": "10.5442/ni000004"}});
        apply(&mut renamed, &known);
        assert_eq!(renamed, json!({"beamline": {"name": "B21"}}));
    }
}
