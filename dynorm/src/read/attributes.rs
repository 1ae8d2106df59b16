//! The attributes a read asks for: one path, a tuple of paths, or a list.

use crate::expr::path::Segment;
use crate::Path;

/// The attribute paths collected by [`Attributes`]. Opaque.
#[derive(Debug, Clone, Default)]
pub struct AttributeList(pub(crate) Vec<Vec<Segment>>);

/// Attribute paths of the model `R` for
/// [`specific_attributes`](crate::ReadStream::specific_attributes): a [`Path`], a tuple of
/// paths of any field types (up to 12), or a `Vec` or array of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of attribute paths of `{R}`",
    label = "pass a path, a tuple of paths, or a Vec or array of paths",
    note = "paths come from `{R}::fields()`; paths of another model are not accepted"
)]
pub trait Attributes<R> {
    /// Adds the paths to `list`.
    fn add_to(self, list: &mut AttributeList);
}

impl<R, T> Attributes<R> for Path<R, T> {
    fn add_to(self, list: &mut AttributeList) {
        list.0.push(self.segments);
    }
}

impl<R, T> Attributes<R> for crate::expr::KeyPath<R, T> {
    fn add_to(self, list: &mut AttributeList) {
        list.0.push(self.segments.clone());
    }
}

impl<R, P: Attributes<R>> Attributes<R> for Vec<P> {
    fn add_to(self, list: &mut AttributeList) {
        for p in self {
            p.add_to(list);
        }
    }
}

impl<R, P: Attributes<R>, const N: usize> Attributes<R> for [P; N] {
    fn add_to(self, list: &mut AttributeList) {
        for p in self {
            p.add_to(list);
        }
    }
}

macro_rules! tuples {
    ($($name:ident)+) => {
        impl<R, $($name: Attributes<R>),+> Attributes<R> for ($($name,)+) {
            #[allow(non_snake_case)]
            fn add_to(self, list: &mut AttributeList) {
                let ($($name,)+) = self;
                $($name.add_to(list);)+
            }
        }
    };
}
tuples!(A);
tuples!(A B);
tuples!(A B C);
tuples!(A B C D);
tuples!(A B C D E);
tuples!(A B C D E F);
tuples!(A B C D E F G);
tuples!(A B C D E F G H);
tuples!(A B C D E F G H I);
tuples!(A B C D E F G H I J);
tuples!(A B C D E F G H I J K);
tuples!(A B C D E F G H I J K L);
