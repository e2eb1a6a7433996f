//! The CIF 1.1 syntax mmCIF files and CBF images share: data blocks of `_tag value`
//! pairs and `loop_` tables, quoted strings and `;` text fields. Only what a header needs:
//! values by tag, of the first data block, leaving out the tags the caller skips.

use std::collections::HashMap;

/// The values of one data block, by lower-cased tag (`_cell.length_a`); a tag outside a
/// loop has one value, a looped tag one per row. `.` and `?` (no value) are `None`.
#[derive(Debug, Default, PartialEq)]
pub struct Block {
    pub name: String,
    values: HashMap<String, Vec<Option<String>>>,
}

impl Block {
    /// The first non-empty value of a tag.
    pub fn get(&self, tag: &str) -> Option<&str> {
        self.values
            .get(tag)?
            .iter()
            .find_map(|v| v.as_deref())
            .filter(|v| !v.is_empty())
    }

    /// Every value of a looped tag, in row order.
    pub fn column(&self, tag: &str) -> &[Option<String>] {
        self.values.get(tag).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn number(&self, tag: &str) -> Option<f64> {
        number(self.get(tag)?)
    }
}

/// A CIF number, its standard uncertainty (`1.5406(2)`) dropped.
pub fn number(v: &str) -> Option<f64> {
    let v = v.split_once('(').map_or(v, |(n, _)| n);
    v.trim().parse().ok().filter(|n: &f64| n.is_finite())
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Data(&'a str),
    Loop,
    Tag(&'a str),
    Value(Option<String>),
    /// `save_`, `global_`, `stop_`: not used by mmCIF; ends a loop.
    Reserved,
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn at_line_start(&self) -> bool {
        self.pos == 0 || self.s.as_bytes()[self.pos - 1] == b'\n'
    }

    /// The next token; `None` at the end, or at an unterminated quote or text field
    /// (a header cut where the caller stopped reading).
    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.s.as_bytes();
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.pos >= b.len() {
                return None;
            }
            if b[self.pos] == b'#' {
                self.pos = self.s[self.pos..]
                    .find('\n')
                    .map_or(b.len(), |n| self.pos + n);
                continue;
            }
            break;
        }
        let start = self.pos;
        let c = b[start];
        if c == b';' && self.at_line_start() {
            // A text field runs to the next line that starts with ';'.
            let end = self.s[start + 1..].find("\n;")? + start + 1;
            let text = self.s[start + 1..end].trim_end_matches('\r');
            let text = text.strip_prefix("\r\n").or(text.strip_prefix('\n'));
            self.pos = end + 2;
            return Some(Token::Value(Some(text.unwrap_or("").to_owned())));
        }
        if c == b'\'' || c == b'"' {
            // A quote closes only when whitespace (or the end) follows it.
            let mut i = start + 1;
            loop {
                let at = self.s[i..].find(c as char)? + i;
                if b.get(at + 1).is_none_or(|n| n.is_ascii_whitespace()) {
                    self.pos = at + 1;
                    return Some(Token::Value(Some(self.s[start + 1..at].to_owned())));
                }
                i = at + 1;
            }
        }
        let end = self.s[start..]
            .find(|ch: char| ch.is_ascii_whitespace())
            .map_or(b.len(), |n| start + n);
        self.pos = end;
        let word = &self.s[start..end];
        let lower = word.get(..5).map(str::to_ascii_lowercase);
        Some(match lower.as_deref() {
            _ if word.starts_with('_') => Token::Tag(word),
            Some("data_") => Token::Data(&word[5..]),
            Some("loop_") if word.len() == 5 => Token::Loop,
            Some("save_") => Token::Reserved,
            _ if word.eq_ignore_ascii_case("global_") || word.eq_ignore_ascii_case("stop_") => {
                Token::Reserved
            }
            _ if word == "." || word == "?" => Token::Value(None),
            _ => Token::Value(Some(word.to_owned())),
        })
    }
}

/// Reads the first data block of `text`, which may be cut anywhere, keeping no values of
/// the tags for which `skip(tag)` holds (a structure's coordinates: they may come before
/// the categories wanted, and are many).
pub fn first_block(text: &str, skip: impl Fn(&str) -> bool) -> Option<Block> {
    let mut lx = Lexer { s: text, pos: 0 };
    let mut block: Option<Block> = None;
    // Tags waiting for values: one outside a loop, the loop's header inside one.
    let mut pending: Vec<String> = Vec::new();
    let mut in_loop = false;
    let mut loop_header_done = false;
    let mut row_at = 0usize;
    while let Some(tok) = lx.next() {
        match tok {
            Token::Data(name) => {
                if block.is_some() {
                    break;
                }
                block = Some(Block {
                    name: name.to_owned(),
                    ..Block::default()
                });
            }
            Token::Loop => {
                (in_loop, loop_header_done, row_at) = (true, false, 0);
                pending.clear();
            }
            Token::Tag(tag) => {
                let tag = tag.to_ascii_lowercase();
                if in_loop && loop_header_done {
                    in_loop = false;
                    pending.clear();
                }
                if !in_loop {
                    pending.clear();
                }
                pending.push(tag);
            }
            Token::Value(v) => {
                let Some(b) = block.as_mut() else { continue };
                if in_loop {
                    loop_header_done = true;
                    if pending.is_empty() {
                        continue;
                    }
                    let tag = &pending[row_at % pending.len()];
                    if !skip(tag) {
                        b.values.entry(tag.clone()).or_default().push(v);
                    }
                    row_at += 1;
                } else if let Some(tag) = pending.pop().filter(|t| !skip(t)) {
                    b.values.insert(tag, vec![v]);
                }
            }
            Token::Reserved => {
                in_loop = false;
                pending.clear();
            }
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "data_1ABC\n\
        # a comment\n\
        _entry.id 1ABC\n\
        _cell.length_a 78.540(3)\n\
        _symmetry.space_group_name_H-M 'P 43 21 2'\n\
        _struct.title\n;\nLysozyme, it's\n  twice\n;\n\
        loop_\n_database_2.database_id\n_database_2.database_code\nPDB 1abc\nWWPDB D_1000\n\
        _exptl.method \"X-RAY DIFFRACTION\"\n\
        _diffrn_source.pdbx_wavelength_list ?\n\
        _quote.inner 'it's here'\n\
        loop_\n_atom_site.id\n1\n2\n";

    #[test]
    fn reads_pairs_loops_quotes_and_text_fields() {
        let b = first_block(TEXT, |_| false).unwrap();
        assert_eq!(b.name, "1ABC");
        assert_eq!(b.get("_entry.id"), Some("1ABC"));
        assert_eq!(b.number("_cell.length_a"), Some(78.54));
        assert_eq!(b.get("_symmetry.space_group_name_h-m"), Some("P 43 21 2"));
        assert_eq!(b.get("_struct.title"), Some("Lysozyme, it's\n  twice"));
        assert_eq!(
            b.column("_database_2.database_code"),
            [Some("1abc".to_owned()), Some("D_1000".to_owned())]
        );
        assert_eq!(b.get("_exptl.method"), Some("X-RAY DIFFRACTION"));
        assert_eq!(b.get("_diffrn_source.pdbx_wavelength_list"), None);
        assert_eq!(b.get("_quote.inner"), Some("it's here"));
        assert_eq!(b.column("_atom_site.id").len(), 2);
    }

    #[test]
    fn skips_what_it_is_told_and_reads_to_a_cut_anywhere() {
        let later = format!("{TEXT}_diffrn_source.pdbx_synchrotron_site ESRF\n");
        let b = first_block(&later, |t| t.starts_with("_atom_site.")).unwrap();
        assert!(b.column("_atom_site.id").is_empty());
        assert_eq!(b.get("_exptl.method"), Some("X-RAY DIFFRACTION"));
        assert_eq!(b.get("_diffrn_source.pdbx_synchrotron_site"), Some("ESRF"));
        for cut in 0..TEXT.len() {
            // Never panics, whatever the cut; what was read before it stays.
            let _ = first_block(&TEXT[..cut], |_| false);
        }
        let cut = TEXT.find("Lysozyme").unwrap();
        let b = first_block(&TEXT[..cut], |_| false).unwrap();
        assert_eq!(b.get("_entry.id"), Some("1ABC"));
        assert_eq!(b.get("_struct.title"), None);
    }

    #[test]
    fn not_cif_gives_no_block() {
        assert_eq!(first_block("\u{89}HDF\r\n garbage", |_| false), None);
        assert_eq!(first_block("", |_| false), None);
    }
}
