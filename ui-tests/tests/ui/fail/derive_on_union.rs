use resilience::MarcusError;

#[derive(MarcusError)]
#[marcus(category = transient)]
union Bits {
    word: u32,
    bytes: [u8; 4],
}

fn main() {}
