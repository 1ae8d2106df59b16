use dynorm::{Db, DynaModel};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    id: String,
    title: String,
}

fn main() {
    let db = Db::local("http://127.0.0.1:1");
    let _ = Book::schema();
    let _ = Book::get(&db, "x").to_input();
    let book = Book { id: "x".into(), title: "t".into() };
    let _ = book.pk();
    let _ = book.put(&db);
}
