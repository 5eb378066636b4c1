//! Closed sets of names as clients and the database write them.

/// Gives an enum of unit variants its wire names: `as_str`, `FromStr` (failing with
/// [`crate::catalog::UnknownVariant`], which lists the accepted names) and `ALL`, every variant
/// in declaration order.
macro_rules! wire_names {
    ($type:ident { $first:ident => $first_name:literal $(, $variant:ident => $name:literal)* $(,)? }) => {
        impl $type {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$first_name $(, $name)*].len()] = [Self::$first $(, Self::$variant)*];

            /// The wire and storage name of the variant.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    Self::$first => $first_name,
                    $(Self::$variant => $name,)*
                }
            }
        }

        impl std::str::FromStr for $type {
            type Err = $crate::catalog::UnknownVariant;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|variant| variant.as_str() == value)
                    .ok_or_else(|| $crate::catalog::UnknownVariant {
                        value: value.to_owned(),
                        expected: concat!($first_name $(, ", ", $name)*),
                    })
            }
        }
    };
}
pub(crate) use wire_names;
