//! Generation of `impl ::resilience::MarcusError`, once `valid` found nothing wrong.
//!
//! Every method is one `match self` with an arm per variant (a struct is one arm,
//! `Self { .. }`); an arm answers with its own values, with its transparent field's, or,
//! for a `#[from]` field, with the field's if it turns out to be a `MarcusError`.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{DeriveInput, Generics, LitStr, Member, WherePredicate};

use super::ast::{ContextKind, DelayKind, Field, Input, Node};
use super::attr::{Category, Marcus, Severity};
use super::naming;

pub(crate) fn derive(input: &Input) -> TokenStream {
    let original = input.original();
    let type_name = unraw(&original.ident);
    let arms: Vec<Arm> = match input {
        Input::Struct(s) => {
            let node = Node::of_struct(s);
            let code = naming::struct_code(&type_name);
            vec![Arm::new(quote!(Self), &node, None, code)]
        }
        Input::Enum(e) => e
            .variants
            .iter()
            .map(|v| {
                let node = Node::of_variant(v);
                let code = naming::variant_code(&type_name, &unraw(v.ident()));
                let ident = v.ident();
                Arm::new(quote!(Self::#ident), &node, Some(&e.attrs.marcus), code)
            })
            .collect(),
    };
    let type_name = LitStr::new(&type_name, original.ident.span());

    let methods = [
        Method::Code,
        Method::Category,
        Method::Severity,
        Method::Retryable,
        Method::RetryAfter,
        Method::Remediation,
        Method::Context,
        Method::ContextMut,
        Method::ErrorType,
    ]
    .map(|method| method.item(&arms, &type_name));

    let bounds = inferred_bounds(&original.generics, &arms);
    let mut generics = original.generics.clone();
    if !bounds.is_empty() {
        generics.make_where_clause().predicates.extend(bounds);
    }
    let ident = &original.ident;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[automatically_derived]
        #[allow(unused_qualifications)]
        impl #impl_generics ::resilience::MarcusError for #ident #ty_generics #where_clause {
            #(#methods)*
        }
    }
}

/// The errors, and an impl that satisfies whatever needed one, so they stand alone.
pub(crate) fn stub(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    let (_, ty_generics, _) = input.generics.split_for_impl();
    // A trivially true or false bound is unstable; a higher-ranked one is neither, and
    // keeps a missing `Error` impl from adding a second error.
    let bound: WherePredicate = syn::parse_quote! {
        for<'__resilience_stub> #ident #ty_generics: ::core::error::Error
    };
    generics.make_where_clause().predicates.push(bound);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #error

        #[automatically_derived]
        #[allow(unused_qualifications)]
        impl #impl_generics ::resilience::MarcusError for #ident #ty_generics #where_clause {
            fn code(&self) -> &'static str {
                loop {}
            }
            fn category(&self) -> ::resilience::Category {
                loop {}
            }
        }
    }
}

/// `r#type` → `type`.
fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// The where-predicates the impl needs beyond the input's own: `Self: Error` (the
/// supertrait, which a generic type may implement only under bounds) and
/// `Field: MarcusError` for each transparent field whose type involves a type parameter.
fn inferred_bounds(generics: &Generics, arms: &[Arm]) -> Vec<WherePredicate> {
    let params: BTreeSet<String> = generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    if generics.params.is_empty() {
        return Vec::new();
    }
    let mut bounds = Vec::new();
    let self_ty = Ident::new("Self", Span::call_site());
    bounds.push(syn::parse_quote!(#self_ty: ::core::error::Error));
    let mut seen = BTreeSet::new();
    for arm in arms {
        if let Answer::Transparent(field) = &arm.answer {
            let ty = field.ty;
            if mentions(ty.to_token_stream(), &params)
                && seen.insert(ty.to_token_stream().to_string())
            {
                bounds.push(syn::parse_quote!(#ty: ::resilience::MarcusError));
            }
        }
    }
    bounds
}

fn mentions(tokens: TokenStream, params: &BTreeSet<String>) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => params.contains(&ident.to_string()),
        TokenTree::Group(group) => mentions(group.stream(), params),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// How one struct or variant answers.
enum Answer<'n, 'a> {
    /// With its own attributes and the enum's defaults.
    Own(Own<'n, 'a>),
    /// With its one field's answers (`#[marcus(transparent)]`).
    Transparent(&'n Field<'a>),
    /// With its `#[from]` field's answers if that is a `MarcusError`, else its own.
    From(&'n Field<'a>, Own<'n, 'a>),
}

/// A struct's or a variant's own values, the enum's defaults merged in.
struct Own<'n, 'a> {
    code: LitStr,
    category: Option<Category>,
    severity: Option<Severity>,
    retryable: Option<bool>,
    retry_after: Option<&'n Field<'a>>,
    remediation: Vec<(Ident, &'n LitStr)>,
    context: Option<&'n Field<'a>>,
    /// Where to point when the category turns out to be missing.
    span: Span,
}

impl<'n, 'a> Own<'n, 'a> {
    fn new(node: &Node<'n, 'a>, defaults: Option<&'n Marcus>, code: String) -> Self {
        let marcus = &node.attrs.marcus;
        let code = match marcus.code.get() {
            Some(lit) => lit.clone(),
            None => LitStr::new(&code, node.ident.span()),
        };
        let mut remediation = Vec::new();
        let own_rem = marcus.remediation.get();
        let default_rem = defaults.and_then(|d| d.remediation.get());
        for (i, name) in super::attr::Remediation::FIELDS.iter().enumerate() {
            let pick =
                |r: Option<&'n super::attr::Remediation>| r.and_then(|r| r.fields()[i].get());
            if let Some(lit) = pick(own_rem).or_else(|| pick(default_rem)) {
                remediation.push((format_ident!("{}", name), lit));
            }
        }
        Own {
            code,
            category: marcus
                .category
                .get()
                .or_else(|| defaults.and_then(|d| d.category.get()))
                .copied(),
            severity: marcus
                .severity
                .get()
                .or_else(|| defaults.and_then(|d| d.severity.get()))
                .copied(),
            retryable: marcus
                .retryable
                .get()
                .or_else(|| defaults.and_then(|d| d.retryable.get()))
                .copied(),
            retry_after: marcus.retry_after.get().and_then(|m| node.field(m)),
            remediation,
            context: node.context_field(),
            span: node.ident.span(),
        }
    }
}

struct Arm<'n, 'a> {
    /// `Self` or `Self::Variant`.
    path: TokenStream,
    answer: Answer<'n, 'a>,
}

impl<'n, 'a> Arm<'n, 'a> {
    fn new(
        path: TokenStream,
        node: &Node<'n, 'a>,
        defaults: Option<&'n Marcus>,
        code: String,
    ) -> Self {
        let answer = if node.attrs.marcus.transparent.get().is_some() {
            match node.fields.first() {
                Some(field) => Answer::Transparent(field),
                // `valid` refused this; answering for itself keeps expansion total.
                None => Answer::Own(Own::new(node, defaults, code)),
            }
        } else if let Some(field) = node.field_with_from() {
            Answer::From(field, Own::new(node, defaults, code))
        } else {
            Answer::Own(Own::new(node, defaults, code))
        };
        Arm { path, answer }
    }

    fn is_from(&self) -> bool {
        matches!(self.answer, Answer::From(..))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Code,
    Category,
    Severity,
    Retryable,
    RetryAfter,
    Remediation,
    Context,
    ContextMut,
    ErrorType,
}

fn inner() -> Ident {
    Ident::new("__resilience_inner", Span::call_site())
}

fn delay() -> Ident {
    Ident::new("__resilience_delay", Span::call_site())
}

fn context() -> Ident {
    Ident::new("__resilience_context", Span::call_site())
}

impl Method {
    fn item(self, arms: &[Arm], type_name: &LitStr) -> TokenStream {
        let (receiver, name, ret) = match self {
            Method::Code => (quote!(&self), quote!(code), quote!(&'static str)),
            Method::Category => (
                quote!(&self),
                quote!(category),
                quote!(::resilience::Category),
            ),
            Method::Severity => (
                quote!(&self),
                quote!(severity),
                quote!(::resilience::Severity),
            ),
            Method::Retryable => (quote!(&self), quote!(retryable), quote!(bool)),
            Method::RetryAfter => (
                quote!(&self),
                quote!(retry_after),
                quote!(::core::option::Option<::core::time::Duration>),
            ),
            Method::Remediation => (
                quote!(&self),
                quote!(remediation),
                quote!(::resilience::Remediation),
            ),
            Method::Context => (
                quote!(&self),
                quote!(context),
                quote!(::core::option::Option<&::resilience::ErrorContext>),
            ),
            Method::ContextMut => (
                quote!(&mut self),
                quote!(context_mut),
                quote!(::core::option::Option<&mut ::resilience::ErrorContext>),
            ),
            Method::ErrorType => (quote!(&self), quote!(error_type), quote!(&'static str)),
        };
        // The probes below pick an impl by method resolution, so their traits must be in
        // scope; they are imported unnamed, where needed, inside the method.
        let uses = if !arms.iter().any(Arm::is_from) {
            quote!()
        } else if self == Method::ContextMut {
            quote! {
                #[allow(unused_imports)]
                use ::resilience::__private::{ViewError as _, ViewMarcus as _, ViewOpaque as _};
            }
        } else {
            quote! {
                #[allow(unused_imports)]
                use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
            }
        };
        let body = if arms.is_empty() {
            quote!(match *self {})
        } else {
            let arms = arms.iter().map(|arm| self.arm(arm, type_name));
            quote!(match self { #(#arms)* })
        };
        quote! {
            #[inline]
            fn #name(#receiver) -> #ret {
                #uses
                #body
            }
        }
    }

    /// The pattern and the body of one arm.
    fn arm(self, arm: &Arm, type_name: &LitStr) -> TokenStream {
        // A field is bound once even if two roles name it.
        let mut bindings: Vec<(Member, Ident)> = Vec::new();
        let mut bind = |field: &Field, name: Ident| -> Ident {
            match bindings.iter().find(|(m, _)| *m == field.member) {
                Some((_, existing)) => existing.clone(),
                None => {
                    bindings.push((field.member.clone(), name.clone()));
                    name
                }
            }
        };
        let body = match &arm.answer {
            Answer::Own(own) => self.own(own, type_name, &mut bind, quote!(self)),
            Answer::Transparent(field) => {
                let inner = bind(field, inner());
                self.delegate(field, &inner)
            }
            Answer::From(field, own) => {
                let inner = bind(field, inner());
                self.from(&inner, own, type_name, &mut bind)
            }
        };
        let path = &arm.path;
        let fields = bindings
            .iter()
            .map(|(member, name)| quote!(#member: #name,));
        quote! {
            #path { #(#fields)* .. } => #body,
        }
    }

    /// The variant's own answer.
    fn own(
        self,
        own: &Own,
        type_name: &LitStr,
        bind: &mut dyn FnMut(&Field, Ident) -> Ident,
        this: TokenStream,
    ) -> TokenStream {
        let category = match own.category {
            Some(c) => c.tokens(),
            // Only a `#[from]` arm lacks one, and `category()` refuses it at compile time
            // unless the field answers; asking `self` then keeps that the only error.
            None => quote!(::resilience::MarcusError::category(#this)),
        };
        match self {
            Method::Code => own.code.to_token_stream(),
            Method::Category => category,
            Method::Severity => match own.severity {
                Some(s) => s.tokens(),
                None => quote!(#category.default_severity()),
            },
            Method::Retryable => match own.retryable {
                Some(r) => quote!(#r),
                None => quote!(#category.default_retryable()),
            },
            Method::RetryAfter => match own.retry_after {
                Some(field) => {
                    let name = bind(field, delay());
                    let span = field.ty.span();
                    match field.delay_kind() {
                        Some(DelayKind::OptionDuration) => quote_spanned!(span=> *#name),
                        Some(DelayKind::Duration) | None => {
                            quote_spanned!(span=> ::core::option::Option::Some(*#name))
                        }
                    }
                }
                None => quote!(::core::option::Option::None),
            },
            Method::Remediation => {
                let defaults = quote!(::resilience::Remediation::for_category(#category));
                if own.remediation.is_empty() {
                    defaults
                } else {
                    let fields = own.remediation.iter().map(|(name, lit)| {
                        quote! {
                            __resilience_remediation.#name = ::core::option::Option::Some(
                                ::std::borrow::Cow::Borrowed(#lit),
                            );
                        }
                    });
                    quote!({
                        let mut __resilience_remediation =
                            <::resilience::Remediation as ::core::default::Default>::default();
                        #(#fields)*
                        __resilience_remediation.or(#defaults)
                    })
                }
            }
            Method::Context | Method::ContextMut => match own.context {
                Some(field) => {
                    let name = bind(field, context());
                    match (field.context_kind(), self) {
                        (Some(ContextKind::Boxed), Method::ContextMut) => {
                            quote!(::core::option::Option::Some(&mut **#name))
                        }
                        (Some(ContextKind::Boxed), _) => {
                            quote!(::core::option::Option::Some(&**#name))
                        }
                        _ => quote!(::core::option::Option::Some(#name)),
                    }
                }
                None => quote!(::core::option::Option::None),
            },
            Method::ErrorType => type_name.to_token_stream(),
        }
    }

    /// The transparent field's answer; a field that is no `MarcusError` is an error at
    /// its type.
    fn delegate(self, field: &Field, inner: &Ident) -> TokenStream {
        let ty = field.ty;
        let name = self.name();
        // Naming the field's own type tokens puts a missing `MarcusError` impl at them.
        quote!(<#ty as ::resilience::MarcusError>::#name(#inner))
    }

    /// The `#[from]` field's answer if it is a `MarcusError`, the variant's own if not.
    fn from(
        self,
        inner: &Ident,
        own: &Own,
        type_name: &LitStr,
        bind: &mut dyn FnMut(&Field, Ident) -> Ident,
    ) -> TokenStream {
        let name = self.name();
        match self {
            Method::Category => {
                let own_category = match own.category {
                    Some(c) => c.tokens(),
                    None => quote_spanned!(own.span=> ::resilience::__private::NoCategory),
                };
                quote_spanned!(own.span=>
                    (&&::resilience::__private::Delegate::new(#inner)).category_or(#own_category)
                )
            }
            Method::ContextMut => {
                let fallback = self.own(own, type_name, bind, quote!(self));
                quote! {
                    match (&&&&&::resilience::__private::Probe::new(#inner)).view() {
                        ::resilience::__private::View::Marcus(__resilience_error) => {
                            ::resilience::MarcusError::context_mut(__resilience_error)
                        }
                        _ => #fallback,
                    }
                }
            }
            _ => {
                let fallback = self.own(own, type_name, bind, quote!(self));
                quote! {
                    match (&&::resilience::__private::Delegate::new(#inner)).marcus() {
                        ::core::option::Option::Some(__resilience_error) => {
                            ::resilience::MarcusError::#name(__resilience_error)
                        }
                        ::core::option::Option::None => #fallback,
                    }
                }
            }
        }
    }

    fn name(self) -> Ident {
        let name = match self {
            Method::Code => "code",
            Method::Category => "category",
            Method::Severity => "severity",
            Method::Retryable => "retryable",
            Method::RetryAfter => "retry_after",
            Method::Remediation => "remediation",
            Method::Context => "context",
            Method::ContextMut => "context_mut",
            Method::ErrorType => "error_type",
        };
        Ident::new(name, Span::call_site())
    }
}
