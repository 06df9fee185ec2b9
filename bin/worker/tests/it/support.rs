//! A worker over a test database holding one products connection (no ingress: the tests that
//! need it are in `tests/e2e`).

use suiteflow_settings::{Reader, Source};
use suiteflow_store::{ConnectionId, Store};
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::webflow::WebflowConfig;
use worker::Worker;

pub struct World {
    /// Kept for its database and stand-ins, which live as long as the world.
    _world: ProductsWorld,
    pub connection: ConnectionId,
    pub worker: Worker,
    store: Store,
}

impl World {
    pub async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let world = ProductsWorld::start(
            WebflowConfig::default(),
            ConnectionSpec::default(),
            Products::mapping(),
        )
        .await;
        let env = stand_in_settings(world.db.url(), &world.wf, &world.ss);
        let source = Source::new(None, env).unwrap();
        let mut r = Reader::new(&source);
        let settings = worker::Settings::read(&mut r);
        let settings = r.finish(|| settings).unwrap();
        let store = Store::connect(&settings.database).await.unwrap();
        Self {
            connection: world.connection,
            worker: Worker::new(store.clone(), settings),
            store,
            _world: world,
        }
    }

    pub async fn store(&self) -> Store {
        self.store.clone()
    }
}
