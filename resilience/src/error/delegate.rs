//! How `#[derive(MarcusError)]` answers for a `#[from]` field it cannot see into.
//!
//! The derive does not know whether a `#[from]` field's type implements
//! [`MarcusError`]: a `std::io::Error` does not, a `CircuitOpen` does. Stable Rust has no
//! specialization to ask, so the generated code asks by method resolution ("autoref
//! specialization", as the runtime's `View` does for `&mut`):
//! `(&&Delegate::new(field)).marcus()` finds [`DelegateMarcus`] when the field is a
//! `MarcusError` (the variant answers with the field's code, category, …) and
//! [`DelegateOwn`] otherwise (the variant answers with its own attributes).

use super::{Category, MarcusError};

/// A shared borrow of a `#[from]` field, to be asked whether it is a [`MarcusError`].
pub struct Delegate<'a, E>(&'a E);

impl<'a, E> Delegate<'a, E> {
    /// Wraps the field.
    #[inline]
    pub fn new(field: &'a E) -> Self {
        Delegate(field)
    }
}

/// Chosen when the field is a [`MarcusError`]: the variant delegates to it.
pub trait DelegateMarcus<'a> {
    /// The field, as the error to answer with.
    fn marcus(&self) -> Option<&'a (dyn MarcusError + 'a)>;

    /// The field's category; the variant's own (`own`) is not needed.
    fn category_or<C>(&self, own: C) -> Category;
}

impl<'a, E: MarcusError + 'a> DelegateMarcus<'a> for &Delegate<'a, E> {
    #[inline]
    fn marcus(&self) -> Option<&'a (dyn MarcusError + 'a)> {
        Some(self.0)
    }

    #[inline]
    fn category_or<C>(&self, _own: C) -> Category {
        self.0.category()
    }
}

/// Chosen when the field is not a [`MarcusError`]: the variant answers for itself.
pub trait DelegateOwn<'a> {
    /// Nothing to delegate to.
    fn marcus(&self) -> Option<&'a (dyn MarcusError + 'a)>;

    /// The variant's own category, which it must have been given.
    fn category_or<C: OwnCategory>(&self, own: C) -> Category;
}

impl<'a, E: 'a> DelegateOwn<'a> for Delegate<'a, E> {
    #[inline]
    fn marcus(&self) -> Option<&'a (dyn MarcusError + 'a)> {
        None
    }

    #[inline]
    fn category_or<C: OwnCategory>(&self, own: C) -> Category {
        own.category()
    }
}

/// A category a variant was given; [`NoCategory`] stands for none, and is refused only
/// when the variant turns out to need one.
#[diagnostic::on_unimplemented(
    message = "this error needs a category: its `#[from]` field is not a `MarcusError`",
    label = "add `#[marcus(category = ...)]` here, or to the enum",
    note = "a `#[from]` field that implements `MarcusError` lends the variant its category; this one does not"
)]
pub trait OwnCategory {
    /// The category.
    fn category(self) -> Category;
}

// Not offered as a fix: the user writes a category in the attribute, not a `Category`.
#[diagnostic::do_not_recommend]
impl OwnCategory for Category {
    #[inline]
    fn category(self) -> Category {
        self
    }
}

/// What the derive passes when a `#[from]` variant was given no category.
pub struct NoCategory;
