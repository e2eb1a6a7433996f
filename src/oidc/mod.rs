//! OpenID Connect sign-in through the `openidconnect` crate: discovery from the issuer,
//! the authorization code flow with PKCE, and the ID token verified (signature against
//! the provider's published keys, issuer, audience, expiry, nonce). The services keep
//! each login's secrets between the two legs; this module only speaks to providers.

use crate::config::OidcSettings;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// The largest answer read from a provider (discovery, keys, tokens, user info).
const MAX_ANSWER: usize = 1 << 20;
/// Discovery and keys are fetched again after this long (keys rotate).
const METADATA_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("{0}")]
    Settings(String),
    /// The provider cannot be reached or answered nonsense: try again later.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (used, expired, or not for this client).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// What came back does not verify: the sign-in is refused.
    #[error("the sign-in did not verify: {0}")]
    Invalid(String),
}

/// Settings that cannot work are refused at start.
pub fn check_settings(name: &str, s: &OidcSettings) -> Result<(), OidcError> {
    let bad = |m: String| Err(OidcError::Settings(m));
    if name.is_empty()
        || name.len() > 32
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return bad("the name must be 1-32 of a-z, 0-9 and '-' (it is part of URLs)".into());
    }
    let issuer =
        url::Url::parse(&s.issuer).map_err(|e| OidcError::Settings(format!("issuer: {e}")))?;
    let loopback = issuer.host_str().is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
        return bad("issuer must be an https:// URL (http:// only on this machine)".into());
    }
    if s.client_id.is_empty() || s.display_name.trim().is_empty() {
        return bad("client_id and display_name must not be empty".into());
    }
    if !s.scopes.iter().any(|sc| sc == "openid") {
        return bad("scopes must include openid".into());
    }
    if s.roles_claim.is_none() && !(s.curator_values.is_empty() && s.admin_values.is_empty()) {
        return bad("curator_values and admin_values need roles_claim".into());
    }
    Ok(())
}

/// The first leg: where to send the browser, and what to keep until it comes back.
#[derive(Debug, Clone)]
pub struct Start {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who signed in, as the provider vouches for it.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Every claim of the ID token, and of the user info for those it lacks.
    pub claims: Map<String, Value>,
}

/// One configured provider.
pub struct Provider {
    pub name: String,
    pub settings: OidcSettings,
    redirect: RedirectUrl,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// The provider's answer, at most [`MAX_ANSWER`] bytes; redirects are not followed.
async fn call(
    http: reqwest::Client,
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let mut resp = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut answer = openidconnect::http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        answer = answer.header(k, v);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| HttpError(e.to_string()))? {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return Err(HttpError(format!(
                "the answer is larger than {MAX_ANSWER} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    answer.body(bytes).map_err(|e| HttpError(e.to_string()))
}

impl Provider {
    pub fn new(
        name: &str,
        settings: &OidcSettings,
        redirect_uri: String,
    ) -> Result<Self, OidcError> {
        check_settings(name, settings)?;
        let http = reqwest::Client::builder()
            // Following redirects would let a provider point the server elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| OidcError::Settings(e.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            settings: settings.clone(),
            redirect: RedirectUrl::new(redirect_uri)
                .map_err(|e| OidcError::Settings(format!("redirect: {e}")))?,
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if !fresh
            && let Some((at, m)) = &*cached
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OidcError::Settings(format!("issuer: {e}")))?;
        let http = |req| call(self.http.clone(), req);
        let m = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("discovery: {e}")))?;
        *cached = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    fn client(
        &self,
        m: CoreProviderMetadata,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            m,
            ClientId::new(self.settings.client_id.clone()),
            self.settings
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.0.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Where to send the browser to sign in.
    pub async fn start(&self) -> Result<Start, OidcError> {
        let client = self.client(self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.settings.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Start {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The second leg: trade the code for tokens and verify who signed in.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, OidcError> {
        match self
            .finish_with(self.metadata(false).await?, code, nonce, pkce_verifier)
            .await
        {
            // Keys may have rotated since discovery: read them again, once.
            Err(OidcError::Invalid(e)) if e.contains("signature") || e.contains("key") => {
                let fresh = self.metadata(true).await?;
                self.finish_with(fresh, code, nonce, pkce_verifier).await
            }
            other => other,
        }
    }

    async fn finish_with(
        &self,
        m: CoreProviderMetadata,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, OidcError> {
        let userinfo = m.userinfo_endpoint().map(|u| u.url().clone());
        let client = self.client(m);
        let http = |req| call(self.http.clone(), req);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Settings(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    OidcError::Refused(r.to_string())
                }
                other => OidcError::Unavailable(other.to_string()),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::Invalid("the provider sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| OidcError::Invalid(e.to_string()))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| OidcError::Invalid(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::Invalid(
                    "the access token does not match the ID token".into(),
                ));
            }
        }
        let subject = claims.subject().as_str().to_owned();
        // Every claim, read from the token whose signature was just verified.
        let mut all = payload_of(&id_token.to_string())?;
        if let Some(url) = userinfo {
            let wanted = [
                self.settings.email_claim.clone(),
                self.verified_claim(),
                self.settings.name_claim.clone(),
            ]
            .into_iter()
            .chain(self.settings.roles_claim.clone());
            if wanted.into_iter().any(|c| !all.contains_key(&c)) {
                let info = self.user_info(url, token.access_token().secret()).await?;
                if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                    return Err(OidcError::Invalid(
                        "the user info is about someone else".into(),
                    ));
                }
                for (k, v) in info {
                    all.entry(k).or_insert(v);
                }
            }
        }
        let text = |k: &str| all.get(k).and_then(Value::as_str).map(str::to_owned);
        let name = text(&self.settings.name_claim).or_else(|| {
            let parts: Vec<String> = ["given_name", "family_name"]
                .iter()
                .filter_map(|k| text(k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        Ok(Identity {
            subject,
            email: text(&self.settings.email_claim).map(|e| e.trim().to_lowercase()),
            email_verified: all.get(&self.verified_claim()) == Some(&Value::Bool(true)),
            name,
            claims: all,
        })
    }

    async fn user_info(
        &self,
        url: url::Url,
        access_token: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let req = openidconnect::http::Request::builder()
            .method("GET")
            .uri(url.as_str())
            .header("authorization", format!("Bearer {access_token}"))
            .header("accept", "application/json")
            .body(Vec::new())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let resp = call(self.http.clone(), req)
            .await
            .map_err(|e| OidcError::Unavailable(format!("user info: {e}")))?;
        if !resp.status().is_success() {
            return Err(OidcError::Unavailable(format!(
                "user info answered {}",
                resp.status()
            )));
        }
        // A signed (JWT) answer is not read: the claims the ID token lacks stay unknown.
        serde_json::from_slice(resp.body()).or(Ok(Map::new()))
    }

    /// The claim that says whether the address was checked.
    fn verified_claim(&self) -> String {
        match self.settings.email_claim.as_str() {
            "email" => "email_verified".into(),
            other => format!("{other}_verified"),
        }
    }

    /// The person's role by `roles_claim`, when it is configured.
    pub fn role_of(&self, id: &Identity) -> Option<crate::model::Role> {
        let claim = self.settings.roles_claim.as_ref()?;
        let values: Vec<&str> = match id.claims.get(claim) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => s.split_whitespace().collect(),
            _ => Vec::new(),
        };
        let any = |wanted: &[String]| values.iter().any(|v| wanted.iter().any(|w| w == v));
        Some(if any(&self.settings.admin_values) {
            crate::model::Role::Admin
        } else if any(&self.settings.curator_values) {
            crate::model::Role::Curator
        } else {
            crate::model::Role::Author
        })
    }
}

/// The claims of a compact JWT (its signature checked by the caller).
fn payload_of(jwt: &str) -> Result<Map<String, Value>, OidcError> {
    use base64::Engine;
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Invalid("the ID token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| OidcError::Invalid(format!("the ID token: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Invalid(format!("the ID token: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.into(),
            client_id: "arca".into(),
            client_secret: None,
            display_name: "Facility".into(),
            orcid: false,
            scopes: vec!["openid".into()],
            create_accounts: true,
            email_claim: "email".into(),
            name_claim: "name".into(),
            roles_claim: Some("groups".into()),
            curator_values: vec!["curators".into()],
            admin_values: vec!["admins".into()],
        }
    }

    #[test]
    fn providers_are_checked_and_roles_follow_the_claim() {
        check_settings("facility", &settings("https://idp.example/realms/x")).unwrap();
        check_settings("local", &settings("http://127.0.0.1:9000")).unwrap();
        for (name, issuer, says) in [
            ("Facility", "https://idp.example", "a-z"),
            ("x", "http://idp.example", "https://"),
            ("x", "not a url", "issuer"),
        ] {
            let e = check_settings(name, &settings(issuer))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
        let p = Provider::new(
            "f",
            &settings("https://idp.example"),
            "https://a.example/cb".into(),
        )
        .unwrap();
        let with = |groups: Value| Identity {
            claims: [("groups".to_owned(), groups)].into_iter().collect(),
            ..Default::default()
        };
        use crate::model::Role;
        assert_eq!(
            p.role_of(&with(serde_json::json!(["x", "curators"]))),
            Some(Role::Curator)
        );
        assert_eq!(
            p.role_of(&with(serde_json::json!(["admins", "curators"]))),
            Some(Role::Admin)
        );
        assert_eq!(
            p.role_of(&with(serde_json::json!("staff curators"))),
            Some(Role::Curator)
        );
        assert_eq!(
            p.role_of(&with(serde_json::json!(["staff"]))),
            Some(Role::Author)
        );
        assert_eq!(p.role_of(&Identity::default()), Some(Role::Author));
    }
}
