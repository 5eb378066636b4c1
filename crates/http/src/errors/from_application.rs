//! Use-case errors mapped to HTTP errors: the only place that decides their statuses.

use application::{
    admin::{CreateTenantError, UpdateUserError},
    catalog::CatalogEntryError,
    chat::ChatError,
    failure::Failure,
    gardens::{CreatePlantingError, GardenError, PlantingError, UpdatePlantingError},
    identity::{
        EraseError, LoginError, ProfileError, RefreshError, RegisterError, UpdateProfileError,
    },
    plants::{CreatePlantError, PlantError, UpdatePlantError},
    sms::{ConfirmPhoneError, InboundSmsError, RequestCodeError, SmsLogError, WebhookRefused},
    store::StoreError,
};

use super::{ApiError, Refusal};

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(source) => Self::Unavailable(source),
            error @ StoreError::Unexpected(_) => Self::internal(error),
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(source) => Self::Unavailable(source),
            Failure::HashingBusy => Self::HashingBusy,
            Failure::Unexpected(source) => Self::internal(source),
        }
    }
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::UnknownTenant => Refusal::UnknownTenant.into(),
            RegisterError::SignupClosed => Refusal::SignupClosed.into(),
            RegisterError::EmailTaken => Refusal::EmailTaken.into(),
            RegisterError::PhoneTaken => Refusal::PhoneTaken.into(),
            RegisterError::Failed(failure) => failure.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Refusal::InvalidCredentials.into(),
            LoginError::Inactive => Refusal::AccountInactive.into(),
            // A revocation won the race: no session, and nothing more to tell.
            LoginError::Revoked => Refusal::InvalidCredentials.into(),
            LoginError::Failed(failure) => failure.into(),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(error: RefreshError) -> Self {
        match error {
            RefreshError::InvalidToken => Refusal::InvalidRefreshToken.into(),
            RefreshError::Failed(failure) => failure.into(),
        }
    }
}

impl From<ProfileError> for ApiError {
    fn from(error: ProfileError) -> Self {
        match error {
            // The token named an account erased meanwhile: the token no longer authenticates.
            ProfileError::NotFound => Refusal::InvalidToken.into(),
            ProfileError::Store(error) => error.into(),
        }
    }
}

impl From<UpdateProfileError> for ApiError {
    fn from(error: UpdateProfileError) -> Self {
        match error {
            UpdateProfileError::NotFound => Refusal::InvalidToken.into(),
            UpdateProfileError::CurrentPasswordMissing => {
                Self::invalid_field("current_password", "is required to change the password")
            }
            UpdateProfileError::WrongCurrentPassword => Refusal::WrongPassword.into(),
            UpdateProfileError::PasswordRejected(rejected) => {
                Self::invalid_field("password", rejected)
            }
            UpdateProfileError::PhoneTaken => Refusal::PhoneTaken.into(),
            UpdateProfileError::Failed(failure) => failure.into(),
        }
    }
}

impl From<EraseError> for ApiError {
    fn from(error: EraseError) -> Self {
        match error {
            EraseError::WrongPassword => Refusal::WrongPassword.into(),
            EraseError::NotFound => Refusal::InvalidToken.into(),
            EraseError::Failed(failure) => failure.into(),
        }
    }
}

impl From<CreateTenantError> for ApiError {
    fn from(error: CreateTenantError) -> Self {
        match error {
            CreateTenantError::SlugTaken => Refusal::TenantSlugTaken.into(),
            CreateTenantError::Store(error) => error.into(),
        }
    }
}

impl From<UpdateUserError> for ApiError {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::NotFound => Refusal::ResourceNotFound.into(),
            UpdateUserError::Failed(failure) => failure.into(),
        }
    }
}

impl From<CatalogEntryError> for ApiError {
    fn from(error: CatalogEntryError) -> Self {
        match error {
            CatalogEntryError::NotFound => Refusal::ResourceNotFound.into(),
            CatalogEntryError::Store(error) => error.into(),
        }
    }
}

impl From<CreatePlantError> for ApiError {
    fn from(error: CreatePlantError) -> Self {
        match error {
            CreatePlantError::UnknownCatalogPlant => {
                Self::invalid_field("catalog_plant_id", "no catalog plant has this id")
            }
            CreatePlantError::UnknownPersonality => {
                Self::invalid_field("personality", "no personality has this key")
            }
            CreatePlantError::Store(error) => error.into(),
        }
    }
}

impl From<UpdatePlantError> for ApiError {
    fn from(error: UpdatePlantError) -> Self {
        match error {
            UpdatePlantError::NotFound => Refusal::ResourceNotFound.into(),
            UpdatePlantError::UnknownPersonality => {
                Self::invalid_field("personality", "no personality has this key")
            }
            UpdatePlantError::Store(error) => error.into(),
        }
    }
}

impl From<PlantError> for ApiError {
    fn from(error: PlantError) -> Self {
        match error {
            PlantError::NotFound => Refusal::ResourceNotFound.into(),
            PlantError::Store(error) => error.into(),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::PlantNotFound => Refusal::ResourceNotFound.into(),
            ChatError::Failed(failure) => failure.into(),
        }
    }
}

impl From<WebhookRefused> for ApiError {
    fn from(_: WebhookRefused) -> Self {
        // One answer for every reason: the caller learns nothing about what would pass.
        Refusal::InvalidWebhookSignature.into()
    }
}

impl From<InboundSmsError> for ApiError {
    fn from(error: InboundSmsError) -> Self {
        error.0.into()
    }
}

impl From<RequestCodeError> for ApiError {
    fn from(error: RequestCodeError) -> Self {
        match error {
            RequestCodeError::NoPhone => {
                Self::invalid_field("phone", "the account has no phone number to verify")
            }
            RequestCodeError::TooManyCodes { retry_after_secs } => Self::RateLimited {
                policy: "phone_verification",
                retry_after_secs,
            },
            RequestCodeError::NotFound => Refusal::InvalidToken.into(),
            RequestCodeError::Failed(failure) => failure.into(),
        }
    }
}

impl From<ConfirmPhoneError> for ApiError {
    fn from(error: ConfirmPhoneError) -> Self {
        match error {
            ConfirmPhoneError::InvalidCode => Refusal::InvalidPhoneCode.into(),
            ConfirmPhoneError::NotFound => Refusal::InvalidToken.into(),
            ConfirmPhoneError::Failed(failure) => failure.into(),
        }
    }
}

impl From<SmsLogError> for ApiError {
    fn from(error: SmsLogError) -> Self {
        error.0.into()
    }
}

impl From<GardenError> for ApiError {
    fn from(error: GardenError) -> Self {
        match error {
            GardenError::NotFound => Refusal::ResourceNotFound.into(),
            GardenError::Failed(failure) => failure.into(),
        }
    }
}

/// The problem of a cell off a `width` × `length` grid, on both coordinates.
fn outside_grid(width: u32, length: u32) -> ApiError {
    ApiError::Validation(vec![
        super::FieldError {
            field: "x".to_owned(),
            message: format!("the cell must lie on the grid: 0 <= x < {width}"),
        },
        super::FieldError {
            field: "y".to_owned(),
            message: format!("the cell must lie on the grid: 0 <= y < {length}"),
        },
    ])
}

impl From<CreatePlantingError> for ApiError {
    fn from(error: CreatePlantingError) -> Self {
        match error {
            CreatePlantingError::GardenNotFound => Refusal::ResourceNotFound.into(),
            CreatePlantingError::UnknownCatalogPlant => {
                Self::invalid_field("catalog_plant_id", "no catalog plant has this id")
            }
            CreatePlantingError::OutsideGrid { width, length } => outside_grid(width, length),
            CreatePlantingError::Restricted { .. } => Refusal::RestrictedCrop.into(),
            CreatePlantingError::GardenFull => Self::invalid_field(
                "garden",
                format!(
                    "holds {} planned and active plantings already: harvest or remove some first",
                    application::gardens::MAX_PLANTINGS_PER_GARDEN
                ),
            ),
            CreatePlantingError::Failed(failure) => failure.into(),
        }
    }
}

impl From<UpdatePlantingError> for ApiError {
    fn from(error: UpdatePlantingError) -> Self {
        match error {
            UpdatePlantingError::NotFound => Refusal::ResourceNotFound.into(),
            UpdatePlantingError::StatusMove(_) => Refusal::PlantingStatusMove.into(),
            UpdatePlantingError::OutsideGrid { width, length } => outside_grid(width, length),
            UpdatePlantingError::Failed(failure) => failure.into(),
        }
    }
}

impl From<PlantingError> for ApiError {
    fn from(error: PlantingError) -> Self {
        match error {
            PlantingError::NotFound => Refusal::ResourceNotFound.into(),
            PlantingError::Failed(failure) => failure.into(),
        }
    }
}
