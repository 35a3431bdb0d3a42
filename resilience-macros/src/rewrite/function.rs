//! The decorated function, seen as the layers need it: its return type, whether it is
//! async (natively or as an `#[async_trait]` body), and how to call it again.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Expr, FnArg, GenericArgument, ItemFn, Pat, PathArguments, ReturnType, Stmt, Type,
    TypeParamBound,
};

/// How the body runs.
pub(crate) enum Flavor {
    Sync,
    /// `async fn`.
    Async,
    /// A body produced by `#[async_trait]`: `Box::pin(async move { prefix; let __ret: T = { body }; suffix })`.
    AsyncTrait {
        prefix: Vec<Stmt>,
        suffix: Vec<Stmt>,
        ret_binding: Option<syn::Ident>,
    },
}

pub(crate) struct Function {
    pub(crate) item: ItemFn,
    pub(crate) flavor: Flavor,
    /// The type the body evaluates to, with `impl Trait` erased to `_`.
    pub(crate) ret: Type,
    /// The statements of the user's body.
    pub(crate) body: Vec<Stmt>,
    /// What `self` is called inside the body.
    pub(crate) receiver: Option<TokenStream>,
}

impl Function {
    pub(crate) fn analyse(item: ItemFn, attribute: &str) -> syn::Result<Function> {
        if let Some(constness) = &item.sig.constness {
            return Err(syn::Error::new(
                constness.span(),
                format!("`#[{attribute}]` cannot be used on a `const fn`: it calls the runtime, which is not `const`; remove `const`"),
            ));
        }
        let declared = match &item.sig.output {
            ReturnType::Type(_, ty) => (**ty).clone(),
            ReturnType::Default => {
                return Err(syn::Error::new(
                    item.sig.ident.span(),
                    format!("`#[{attribute}]` needs a function that returns `Result<T, E>`; add a return type such as `-> Result<(), MyError>`"),
                ))
            }
        };
        let mut receiver = item.sig.receiver().map(|_| quote!(self));
        let (flavor, ret, body) = match async_trait_body(&item, &declared) {
            Some((output, stmts)) => {
                let (prefix, ret_binding, body, suffix) = split_async_trait(stmts);
                if prefix.iter().any(binds_dunder_self) {
                    receiver = Some(quote!(__self));
                }
                (
                    Flavor::AsyncTrait {
                        prefix,
                        suffix,
                        ret_binding,
                    },
                    output,
                    body,
                )
            }
            None => {
                let flavor = if item.sig.asyncness.is_some() {
                    Flavor::Async
                } else {
                    Flavor::Sync
                };
                (flavor, declared, item.block.stmts.clone())
            }
        };
        check_result_type(&ret, attribute)?;
        let mut ret = ret;
        EraseImplTrait.visit_type_mut(&mut ret);
        Ok(Function {
            item,
            flavor,
            ret,
            body,
            receiver,
        })
    }

    pub(crate) fn is_async(&self) -> bool {
        !matches!(self.flavor, Flavor::Sync)
    }

    pub(crate) fn name(&self) -> &syn::Ident {
        &self.item.sig.ident
    }

    /// Whether the function is known to be a method, so its default name carries its
    /// `Self` type: it has a receiver, or its signature names `Self`. (An associated
    /// function whose signature does not cannot be told from a free one.)
    pub(crate) fn uses_self(&self) -> bool {
        fn names_self(tokens: TokenStream) -> bool {
            tokens.into_iter().any(|tree| match tree {
                proc_macro2::TokenTree::Ident(ident) => ident == "Self",
                proc_macro2::TokenTree::Group(group) => names_self(group.stream()),
                _ => false,
            })
        }
        self.item.sig.receiver().is_some()
            || self.receiver.is_some()
            || names_self(self.item.sig.inputs.to_token_stream())
            || names_self(self.item.sig.output.to_token_stream())
    }

    /// The arguments to pass on to a fallback: the receiver first, then each argument.
    pub(crate) fn call_arguments(
        &self,
        attribute_span: proc_macro2::Span,
    ) -> syn::Result<Vec<TokenStream>> {
        let mut out = Vec::new();
        for input in &self.item.sig.inputs {
            match input {
                FnArg::Receiver(_) => out.push(self.receiver.clone().unwrap_or_else(|| quote!(self))),
                FnArg::Typed(typed) => match &*typed.pat {
                    Pat::Ident(ident) => {
                        let name = &ident.ident;
                        out.push(quote!(#name));
                    }
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`#[fallback]` passes the arguments on by name; bind this argument to a name (`arg: T`) and destructure it in the body",
                        ))
                        .map_err(|mut e| {
                            e.combine(syn::Error::new(attribute_span, "the fallback is declared here"));
                            e
                        })
                    }
                },
            }
        }
        Ok(out)
    }

    /// Re-emits the function with `body` as its new block.
    pub(crate) fn emit(self, body: TokenStream) -> TokenStream {
        let ItemFn {
            attrs, vis, sig, ..
        } = &self.item;
        let block = match &self.flavor {
            Flavor::Sync | Flavor::Async => quote!({ #body }),
            Flavor::AsyncTrait {
                prefix,
                suffix,
                ret_binding,
            } => {
                let ret = &self.ret;
                let binding = ret_binding
                    .clone()
                    .unwrap_or_else(|| syn::Ident::new("__ret", proc_macro2::Span::call_site()));
                let tail = if ret_binding.is_some() {
                    quote!(#(#suffix)*)
                } else {
                    quote!(#binding)
                };
                quote!({
                    ::std::boxed::Box::pin(async move {
                        #(#prefix)*
                        let #binding: #ret = { #body };
                        #tail
                    })
                })
            }
        };
        quote!(#(#attrs)* #vis #sig #block)
    }
}

/// For a function rewritten by `#[async_trait]`: the future's output type and the
/// statements of its async block.
fn async_trait_body(item: &ItemFn, declared: &Type) -> Option<(Type, Vec<Stmt>)> {
    if item.sig.asyncness.is_some() {
        return None;
    }
    let output = future_output(declared)?;
    let Some(Stmt::Expr(Expr::Call(call), None)) = item.block.stmts.last() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    let Expr::Async(block) = &call.args[0] else {
        return None;
    };
    Some((output, block.block.stmts.clone()))
}

/// `Pin<Box<dyn Future<Output = T> + ...>>` → `T`.
fn future_output(ty: &Type) -> Option<Type> {
    let inner = last_generic(ty, "Pin")?;
    let inner = last_generic(&inner, "Box")?;
    let Type::TraitObject(object) = inner else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

fn last_generic(ty: &Type, name: &str) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// Splits an `#[async_trait]` block at its `let __ret: T = { body };`, so that only the
/// user's body is re-run by a retry, not the argument moves before it.
fn split_async_trait(stmts: Vec<Stmt>) -> (Vec<Stmt>, Option<syn::Ident>, Vec<Stmt>, Vec<Stmt>) {
    let position = stmts.iter().position(|stmt| {
        matches!(stmt, Stmt::Local(local) if matches!(&local.pat, Pat::Type(t) if matches!(&*t.pat, Pat::Ident(i) if i.ident == "__ret")))
    });
    let Some(position) = position else {
        return (Vec::new(), None, stmts, Vec::new());
    };
    let mut stmts = stmts;
    let suffix = stmts.split_off(position + 1);
    let Some(Stmt::Local(local)) = stmts.pop() else {
        return (Vec::new(), None, stmts, suffix);
    };
    let body = match local.init.as_ref().map(|init| &*init.expr) {
        Some(Expr::Block(block)) => block.block.stmts.clone(),
        Some(expr) => vec![Stmt::Expr(expr.clone(), None)],
        None => Vec::new(),
    };
    let binding = syn::Ident::new("__ret", proc_macro2::Span::call_site());
    (stmts, Some(binding), body, suffix)
}

fn binds_dunder_self(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Local(local) if local.pat.to_token_stream().to_string().contains("__self"))
}

/// Types that are surely not a `Result` give an error here, at the type; anything else
/// (an alias such as `io::Result<T>`) is left to the type checker.
fn check_result_type(ty: &Type, attribute: &str) -> syn::Result<()> {
    let not_result = match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|last| {
            let name = last.ident.to_string();
            matches!(
                name.as_str(),
                "Option"
                    | "String"
                    | "Vec"
                    | "Box"
                    | "bool"
                    | "char"
                    | "str"
                    | "u8"
                    | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "usize"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "isize"
                    | "f32"
                    | "f64"
            )
        }),
        Type::Tuple(_)
        | Type::Reference(_)
        | Type::Array(_)
        | Type::Slice(_)
        | Type::Ptr(_)
        | Type::Never(_)
        | Type::ImplTrait(_)
        | Type::BareFn(_)
        | Type::TraitObject(_) => true,
        _ => false,
    };
    if not_result {
        return Err(syn::Error::new(
            ty.span(),
            format!("`#[{attribute}]` needs a function that returns `Result<T, E>`; change this return type to a `Result`"),
        ));
    }
    Ok(())
}

/// `impl Trait` cannot be written in a closure's return type or a `let`; `_` infers it.
struct EraseImplTrait;

impl VisitMut for EraseImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(t) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](t.span()),
            });
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
