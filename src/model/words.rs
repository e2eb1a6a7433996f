//! Numbers as people read them: "1 file", "2 files", never "file(s)".

/// `n` and the noun that goes with it.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_every_other_number_plural() {
        assert_eq!(super::count(0u32, "file", "files"), "0 files");
        assert_eq!(super::count(1u32, "file", "files"), "1 file");
        assert_eq!(super::count(2u64, "DOI", "DOIs"), "2 DOIs");
    }
}
