//! Who is calling: an API token in `Authorization: Bearer …`.

use super::error::AppError;
use crate::services::{Actor, ServiceError, Services};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

pub struct Authenticated(pub Actor);

impl FromRequestParts<Services> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Self(services.authenticate(token).await?))
    }
}
