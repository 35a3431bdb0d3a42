//! A typed view of the derive input; every node keeps its `original` for spans.

use syn::{Data, DeriveInput, Fields, Ident, Index, Member, Type};

use super::attr::{self, Attrs};
use crate::errors::Errors;

pub(crate) enum Input<'a> {
    Struct(Struct<'a>),
    Enum(Enum<'a>),
}

pub(crate) struct Struct<'a> {
    pub original: &'a DeriveInput,
    pub attrs: Attrs<'a>,
    pub fields: Vec<Field<'a>>,
}

pub(crate) struct Enum<'a> {
    pub original: &'a DeriveInput,
    pub attrs: Attrs<'a>,
    pub variants: Vec<Variant<'a>>,
}

pub(crate) struct Variant<'a> {
    pub original: &'a syn::Variant,
    pub attrs: Attrs<'a>,
    pub fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub attrs: Attrs<'a>,
    pub member: Member,
    pub ty: &'a Type,
}

impl<'a> Input<'a> {
    /// The view of `node`; attribute mistakes go to `errors`. `None` for a union.
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let attrs = attr::get(&node.attrs, errors);
        match &node.data {
            Data::Struct(data) => Some(Input::Struct(Struct {
                original: node,
                attrs,
                fields: Field::multiple_from_syn(&data.fields, errors),
            })),
            Data::Enum(data) => Some(Input::Enum(Enum {
                original: node,
                attrs,
                variants: data
                    .variants
                    .iter()
                    .map(|v| Variant {
                        original: v,
                        attrs: attr::get(&v.attrs, errors),
                        fields: Field::multiple_from_syn(&v.fields, errors),
                    })
                    .collect(),
            })),
            Data::Union(data) => {
                errors.push(syn::Error::new(
                    data.union_token.span,
                    "`MarcusError` cannot be derived for a union: use an enum or a struct",
                ));
                None
            }
        }
    }

    pub(crate) fn original(&self) -> &'a DeriveInput {
        match self {
            Input::Struct(s) => s.original,
            Input::Enum(e) => e.original,
        }
    }
}

impl Struct<'_> {
    pub(crate) fn ident(&self) -> &Ident {
        &self.original.ident
    }
}

impl Enum<'_> {
    pub(crate) fn ident(&self) -> &Ident {
        &self.original.ident
    }
}

impl Variant<'_> {
    pub(crate) fn ident(&self) -> &Ident {
        &self.original.ident
    }
}

impl<'a> Field<'a> {
    fn multiple_from_syn(fields: &'a Fields, errors: &mut Errors) -> Vec<Self> {
        fields
            .iter()
            .enumerate()
            .map(|(i, field)| Field {
                attrs: attr::get(&field.attrs, errors),
                member: match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(Index::from(i)),
                },
                ty: &field.ty,
            })
            .collect()
    }
}

/// What a struct or a variant holds and says, whichever it is: validation and expansion
/// treat both alike.
pub(crate) struct Node<'n, 'a> {
    pub attrs: &'n Attrs<'a>,
    pub fields: &'n [Field<'a>],
    /// The struct's or the variant's name.
    pub ident: &'n Ident,
    pub is_struct: bool,
}

impl<'n, 'a> Node<'n, 'a> {
    pub(crate) fn of_struct(s: &'n Struct<'a>) -> Self {
        Node {
            attrs: &s.attrs,
            fields: &s.fields,
            ident: s.ident(),
            is_struct: true,
        }
    }

    pub(crate) fn of_variant(v: &'n Variant<'a>) -> Self {
        Node {
            attrs: &v.attrs,
            fields: &v.fields,
            ident: v.ident(),
            is_struct: false,
        }
    }

    /// The field marked `#[context]` (the first, if several).
    pub(crate) fn context_field(&self) -> Option<&'n Field<'a>> {
        self.fields.iter().find(|f| !f.attrs.context.is_empty())
    }

    /// The field named by `retry_after = ...`.
    pub(crate) fn field(&self, member: &Member) -> Option<&'n Field<'a>> {
        self.fields.iter().find(|f| f.member == *member)
    }

    /// The field marked `#[from]`, which the node delegates to if it is a `MarcusError`.
    pub(crate) fn field_with_from(&self) -> Option<&'n Field<'a>> {
        self.fields.iter().find(|f| f.attrs.from.is_some())
    }
}

/// How a `retry_after` field holds its delay.
#[derive(Clone, Copy)]
pub(crate) enum DelayKind {
    Duration,
    OptionDuration,
}

/// How a `#[context]` field holds its context.
#[derive(Clone, Copy)]
pub(crate) enum ContextKind {
    Plain,
    Boxed,
}

impl Field<'_> {
    /// `Duration` or `Option<Duration>`, by the last segment of the path, so
    /// `std::time::Duration` and an imported `Duration` both count.
    pub(crate) fn delay_kind(&self) -> Option<DelayKind> {
        if last_segment_is(self.ty, "Duration").is_some() {
            return Some(DelayKind::Duration);
        }
        let arg = single_type_arg(last_segment_is(self.ty, "Option")?)?;
        last_segment_is(arg, "Duration").map(|_| DelayKind::OptionDuration)
    }

    /// `ErrorContext` or `Box<ErrorContext>`, by the last segment of the path.
    pub(crate) fn context_kind(&self) -> Option<ContextKind> {
        if last_segment_is(self.ty, "ErrorContext").is_some() {
            return Some(ContextKind::Plain);
        }
        let arg = single_type_arg(last_segment_is(self.ty, "Box")?)?;
        last_segment_is(arg, "ErrorContext").map(|_| ContextKind::Boxed)
    }
}

/// The last segment of `ty`'s path, if it is named `name`.
fn last_segment_is<'t>(ty: &'t Type, name: &str) -> Option<&'t syn::PathSegment> {
    match ty {
        Type::Group(g) => last_segment_is(&g.elem, name),
        Type::Paren(p) => last_segment_is(&p.elem, name),
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().filter(|s| s.ident == name),
        _ => None,
    }
}

/// `T` of `Name<T>`.
fn single_type_arg(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
            match args.args.first() {
                Some(syn::GenericArgument::Type(ty)) => Some(ty),
                _ => None,
            }
        }
        _ => None,
    }
}
