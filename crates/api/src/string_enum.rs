//! A macro for Velero's string enums (phases, access modes, policies): known values as variants,
//! spelled exactly as Velero spells them, and any other string kept in `Unknown` so that a value
//! added by a newer Velero never makes a whole object fail to parse.

/// Defines a string enum with an `Unknown(String)` fallback, serde as a plain string, and a JSON
/// schema listing the known values (`type: string`, `enum: [...]`), as Velero's CRDs do.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value this version of godwit does not know (a newer Velero may add some), kept
            /// exactly as it was written.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in the order Velero declares them.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as Velero spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Unknown(text) => text,
                }
            }

            /// Reads a value; a string that is not a known value becomes `Unknown`, never an error.
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }

            /// Whether this is one of the values this version of godwit knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::parse(text)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match Self::parse(&text) {
                    $name::Unknown(_) => $name::Unknown(text),
                    known => known,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(text))
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    "type": "string",
                    "enum": [$($text),+],
                })
            }
        }
    };
}

pub(crate) use string_enum;
