//! Content negotiation: pick the best of the media types a route offers for an
//! `Accept` header (RFC 9110 §12.5.1, with q-values and wildcards).

/// The offered type the client prefers most, or None when it accepts none of them
/// (a 406). No `Accept` header means anything, so the first offer wins.
pub fn choose<'a>(accept: Option<&str>, offers: &[&'a str]) -> Option<&'a str> {
    choose_with_params(accept, offers).map(|(o, _)| o)
}

/// Media-type parameters other than q, such as `style=apa`.
pub type Params = Vec<(String, String)>;

/// Like [`choose`], also returning the parameters the client gave with that exact type
/// (such as `style=apa` in `text/x-bibliography; style=apa`).
pub fn choose_with_params<'a>(
    accept: Option<&str>,
    offers: &[&'a str],
) -> Option<(&'a str, Params)> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return offers.first().map(|o| (*o, Vec::new()));
    };
    let mut ranges: Vec<(String, f32, Params)> = Vec::new();
    for part in accept.split(',') {
        let mut bits = part.split(';').map(str::trim);
        let range = bits.next().unwrap_or_default().to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut params = Vec::new();
        for p in bits {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let (k, v) = (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            );
            if k == "q" {
                q = v.parse().unwrap_or(0.0);
            } else {
                params.push((k, v));
            }
        }
        if !range.is_empty() {
            ranges.push((range, q.clamp(0.0, 1.0), params));
        }
    }
    // For each offer, the most specific matching range decides its quality.
    let quality = |offer: &str| -> f32 {
        let (otype, _) = offer.split_once('/').unwrap_or((offer, ""));
        let mut best: Option<(u8, f32)> = None;
        for (range, q, _) in &ranges {
            let specificity = if range == offer {
                3
            } else if range.strip_suffix("/*") == Some(otype) {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, *q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    let mut winner: Option<(&str, f32)> = None;
    for offer in offers {
        let q = quality(offer);
        if q > 0.0 && winner.is_none_or(|(_, wq)| q > wq) {
            winner = Some((offer, q));
        }
    }
    let (offer, _) = winner?;
    let params = ranges
        .into_iter()
        .find(|(r, _, _)| r == offer)
        .map(|(_, _, p)| p)
        .unwrap_or_default();
    Some((offer, params))
}

#[cfg(test)]
mod tests {
    use super::{choose, choose_with_params};

    const OFFERS: &[&str] = &["text/html", "application/vnd.datacite.datacite+xml"];

    #[test]
    fn q_values_wildcards_and_refusals() {
        assert_eq!(choose(None, OFFERS), Some("text/html"));
        assert_eq!(
            choose(Some("application/vnd.datacite.datacite+xml"), OFFERS),
            Some(OFFERS[1])
        );
        assert_eq!(
            choose(
                Some("text/html;q=0.5, application/vnd.datacite.datacite+xml;q=0.9"),
                OFFERS
            ),
            Some(OFFERS[1])
        );
        assert_eq!(
            choose(Some("application/*;q=0.8, text/html;q=0.2"), OFFERS),
            Some(OFFERS[1])
        );
        assert_eq!(choose(Some("*/*"), OFFERS), Some("text/html"));
        assert_eq!(
            choose(Some("text/html;q=0, */*;q=0.1"), OFFERS),
            Some(OFFERS[1])
        );
        assert_eq!(choose(Some("application/x-bibtex"), OFFERS), None);
        let (o, p) = choose_with_params(
            Some("text/x-bibliography; style=apa; locale=\"de-DE\""),
            &["text/x-bibliography"],
        )
        .unwrap();
        assert_eq!(o, "text/x-bibliography");
        assert_eq!(
            p,
            [
                ("style".to_owned(), "apa".to_owned()),
                ("locale".to_owned(), "de-DE".to_owned())
            ]
        );
    }
}
