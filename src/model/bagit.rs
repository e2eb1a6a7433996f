//! BagIt (RFC 8493): the tag files Arca writes when it exports a bag, and the checks a bag
//! must pass before it is imported. Pure: callers hash the bytes and hand over results.

use super::checksum::{Algorithm, Checksum};
use super::manifest::{Manifest, ManifestFormat};
use super::path::DatasetPath;
use std::collections::BTreeMap;

pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// §2.1.3: CR, LF and '%' in manifest paths are percent-encoded.
pub fn escape_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

/// One manifest line for a payload file.
pub fn manifest_line(hex: &str, path: &str) -> String {
    format!("{hex}  data/{}\n", escape_path(path))
}

/// `bag-info.txt`: one `Label: value` per line; line breaks inside a value become
/// continuation lines (§2.2.2).
pub fn bag_info(fields: &[(&str, String)]) -> String {
    let mut o = String::new();
    for (label, value) in fields {
        let value = value.trim().replace("\r\n", "\n").replace('\n', "\n    ");
        o.push_str(&format!("{label}: {value}\n"));
    }
    o
}

/// A tag file of `Label: value` lines (bagit.txt, bag-info.txt), continuation lines
/// joined. Errors name the line.
pub fn parse_tags(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(format!("line {}: continuation without a label", i + 1)),
            }
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            return Err(format!("line {}: expected 'Label: value'", i + 1));
        };
        out.push((label.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(out)
}

/// What the importer learnt about one payload file while storing it.
#[derive(Debug, Clone)]
pub struct PayloadFile {
    pub size: u64,
    /// Every algorithm in [`Algorithm::ALL`].
    pub checksums: Vec<Checksum>,
}

/// A bag as read from an archive, with its root already removed from the paths.
#[derive(Debug, Default)]
pub struct ReadBag {
    /// Tag files (everything outside `data/`), by path, with their bytes.
    pub tag_files: BTreeMap<String, Vec<u8>>,
    /// Payload files, by path inside `data/`.
    pub payload: BTreeMap<String, PayloadFile>,
}

/// A bag that passed every check: its manifests, by algorithm, and `bag-info.txt`.
#[derive(Debug)]
pub struct CheckedBag {
    pub manifests: Vec<Manifest>,
    pub info: Vec<(String, String)>,
}

fn checksum_of(file: &PayloadFile, a: Algorithm) -> Option<&Checksum> {
    file.checksums.iter().find(|c| c.algorithm == a)
}

/// Every problem with a bag, or what it holds (§3: validity).
pub fn check(bag: &ReadBag) -> Result<CheckedBag, Vec<String>> {
    let mut problems = Vec::new();
    let text = |name: &str| {
        bag.tag_files
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    match text("bagit.txt").map(|t| parse_tags(&t)) {
        None => problems.push("bagit.txt is missing".to_owned()),
        Some(Err(e)) => problems.push(format!("bagit.txt: {e}")),
        Some(Ok(tags)) => {
            let get = |k: &str| tags.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str());
            match get("BagIt-Version") {
                Some(v) if v.starts_with("0.9") || v.starts_with("1.") => {}
                Some(v) => problems.push(format!("bagit.txt: unsupported BagIt-Version {v}")),
                None => problems.push("bagit.txt: BagIt-Version is missing".into()),
            }
            match get("Tag-File-Character-Encoding") {
                Some(e) if e.eq_ignore_ascii_case("UTF-8") => {}
                Some(e) => problems.push(format!(
                    "bagit.txt: tag files must be UTF-8, this bag says {e}"
                )),
                None => problems.push("bagit.txt: Tag-File-Character-Encoding is missing".into()),
            }
        }
    }
    if bag.tag_files.contains_key("fetch.txt") {
        problems.push(
            "fetch.txt: bags that fetch their payload from elsewhere are not accepted; include every file"
                .into(),
        );
    }
    let info = match text("bag-info.txt").map(|t| parse_tags(&t)) {
        None => Vec::new(),
        Some(Ok(tags)) => tags,
        Some(Err(e)) => {
            problems.push(format!("bag-info.txt: {e}"));
            Vec::new()
        }
    };
    // Payload-Oxum: "<octets>.<files>".
    if let Some((_, oxum)) = info.iter().find(|(l, _)| l == "Payload-Oxum") {
        let bytes: u64 = bag.payload.values().map(|f| f.size).sum();
        let count = bag.payload.len();
        match oxum.split_once('.') {
            Some((b, n)) if b.parse::<u64>().is_ok() && n.parse::<usize>().is_ok() => {
                if b.parse::<u64>() != Ok(bytes) || n.parse::<usize>() != Ok(count) {
                    problems.push(format!(
                        "Payload-Oxum says {oxum} (bytes.files), the payload has {bytes}.{count}"
                    ));
                }
            }
            _ => problems.push(format!("Payload-Oxum '{oxum}' is not <bytes>.<files>")),
        }
    }
    let mut manifests = Vec::new();
    for (name, bytes) in &bag.tag_files {
        let Some(alg) = name
            .strip_prefix("manifest-")
            .and_then(|n| n.strip_suffix(".txt"))
        else {
            continue;
        };
        let algorithm = match alg.parse::<Algorithm>() {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let m = match Manifest::parse(
            &String::from_utf8_lossy(bytes),
            Some(algorithm),
            ManifestFormat::BagIt,
        ) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let listed: BTreeMap<&str, &Checksum> =
            m.entries.iter().map(|(p, c)| (p.as_str(), c)).collect();
        for (path, want) in &listed {
            match bag.payload.get(*path) {
                None => problems.push(format!("{name}: data/{path} is listed but not in the bag")),
                Some(f) if checksum_of(f, algorithm).map(|c| &c.hex) != Some(&want.hex) => {
                    problems.push(format!(
                        "data/{path}: {algorithm} does not match {name} (the file is damaged or the manifest is wrong)"
                    ))
                }
                Some(_) => {}
            }
        }
        for path in bag.payload.keys() {
            if !listed.contains_key(path.as_str()) {
                problems.push(format!("data/{path} is in the bag but not in {name}"));
            }
        }
        manifests.push(m);
    }
    if manifests.is_empty() && !problems.iter().any(|p| p.starts_with("manifest-")) {
        problems.push("the bag has no payload manifest (manifest-<algorithm>.txt)".into());
    }
    // Tag manifests cover tag files; each listed file must match.
    for (name, bytes) in &bag.tag_files {
        let Some(alg) = name
            .strip_prefix("tagmanifest-")
            .and_then(|n| n.strip_suffix(".txt"))
        else {
            continue;
        };
        let Ok(algorithm) = alg.parse::<Algorithm>() else {
            problems.push(format!("{name}: unsupported algorithm {alg}"));
            continue;
        };
        for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
            let Some((hex, path)) = line.trim_end_matches('\r').split_once([' ', '\t']) else {
                if !line.trim().is_empty() {
                    problems.push(format!(
                        "{name}: line {}: expected '<checksum> <path>'",
                        i + 1
                    ));
                }
                continue;
            };
            let path = path.trim_start();
            match bag.tag_files.get(path) {
                None => problems.push(format!("{name}: {path} is listed but not in the bag")),
                Some(content) => {
                    if Checksum::of(algorithm, content).hex != hex.to_ascii_lowercase() {
                        problems.push(format!("{path}: {algorithm} does not match {name}"));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(CheckedBag { manifests, info })
    } else {
        Err(problems)
    }
}

/// The bag-relative path of a payload file as a dataset path, or why it cannot be one.
pub fn payload_path(path: &str) -> Result<DatasetPath, String> {
    DatasetPath::parse(path).map_err(|e| format!("data/{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(data: &[u8]) -> PayloadFile {
        PayloadFile {
            size: data.len() as u64,
            checksums: Algorithm::ALL
                .iter()
                .map(|a| Checksum::of(*a, data))
                .collect(),
        }
    }

    fn hex(a: Algorithm, data: &[u8]) -> String {
        Checksum::of(a, data).hex
    }

    fn good_bag() -> ReadBag {
        let mut bag = ReadBag::default();
        bag.tag_files.insert("bagit.txt".into(), BAGIT_TXT.into());
        bag.payload.insert("a b.txt".into(), payload(b"hello"));
        bag.payload.insert("sub/c.bin".into(), payload(b"xyz"));
        let manifest = manifest_line(&hex(Algorithm::Sha512, b"hello"), "a b.txt")
            + &manifest_line(&hex(Algorithm::Sha512, b"xyz"), "sub/c.bin");
        bag.tag_files
            .insert("manifest-sha512.txt".into(), manifest.clone().into());
        bag.tag_files.insert(
            "bag-info.txt".into(),
            bag_info(&[("Payload-Oxum", "8.2".into()), ("Title", "a\nb".into())]).into(),
        );
        let tag = format!(
            "{}  manifest-sha512.txt\n",
            hex(Algorithm::Sha256, manifest.as_bytes())
        );
        bag.tag_files
            .insert("tagmanifest-sha256.txt".into(), tag.into());
        bag
    }

    #[test]
    fn a_good_bag_passes() {
        let checked = check(&good_bag()).unwrap();
        assert_eq!(checked.manifests.len(), 1);
        assert!(checked.info.contains(&("Title".into(), "a b".into())));
    }

    #[test]
    fn every_problem_is_reported() {
        let mut bag = good_bag();
        bag.payload.insert("extra.txt".into(), payload(b"!"));
        bag.payload.get_mut("a b.txt").unwrap().checksums = payload(b"hellO").checksums;
        bag.tag_files.remove("bagit.txt");
        bag.tag_files
            .insert("fetch.txt".into(), b"http://x 1 data/y".to_vec());
        let problems = check(&bag).unwrap_err();
        let all = problems.join("\n");
        for want in [
            "bagit.txt is missing",
            "fetch.txt",
            "Payload-Oxum says 8.2",
            "data/a b.txt: sha512 does not match",
            "data/extra.txt is in the bag but not in manifest-sha512.txt",
        ] {
            assert!(all.contains(want), "{want} not in:\n{all}");
        }
    }

    #[test]
    fn a_changed_manifest_breaks_the_tag_manifest() {
        let mut bag = good_bag();
        let m = bag.tag_files.get_mut("manifest-sha512.txt").unwrap();
        m.extend_from_slice(b"\n");
        let all = check(&bag).unwrap_err().join("\n");
        assert!(
            all.contains("manifest-sha512.txt: sha256 does not match tagmanifest-sha256.txt"),
            "{all}"
        );
    }

    #[test]
    fn paths_with_line_breaks_are_escaped() {
        assert_eq!(manifest_line("ab", "x\n%y"), "ab  data/x%0A%25y\n");
    }
}
