"""Assembly of the long-lived parts (store, region tree, ID vault, clock, account service).

The CLI and the web app both build their world here, from one Config, so a command and the
server see the same rules. Start-up refuses to run without an ID key outside demo mode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from farmer_mailbox.accounts import Accounts
from farmer_mailbox.clock import Clock, SystemClock
from farmer_mailbox.config import Config, ConfigError
from farmer_mailbox.places import TreePlaces
from farmer_mailbox.privacy import DEMO_KEY, IdKeyError, IdVault
from farmer_mailbox.region_import import import_region_files, load_tree
from farmer_mailbox.regions import RegionTree, packaged_region_files
from farmer_mailbox.store import Store, open_store
from farmer_mailbox.text.lexicon import load_lexicon

log = logging.getLogger(__name__)


def vault_from_config(config: Config, env: Mapping[str, str] | None = None) -> IdVault:
    """Build the ID vault from the configured env var; demo mode falls back to the demo key."""
    env = os.environ if env is None else env
    var = config.security.id_key_env
    key_text = env.get(var)
    if not key_text:
        if not config.service.demo:
            raise ConfigError(
                f"security.id_key_env: environment variable {var} is not set; it must hold a base64 "
                "32-byte key (openssl rand -base64 32). Only demo mode runs without one."
            )
        log.warning("demo mode: ID numbers are encrypted with the public demo key")
        key_text = DEMO_KEY
    try:
        return IdVault.from_text(key_text)
    except IdKeyError as exc:
        raise ConfigError(f"security.id_key_env: {var} {exc}") from None


@dataclass
class Services:
    """Everything a command or request needs, built once."""

    config: Config
    store: Store
    tree: RegionTree
    vault: IdVault
    clock: Clock
    accounts: Accounts
    places: TreePlaces

    async def reload_tree(self) -> None:
        """Rebuild the region tree after an import."""
        self.tree = await load_tree(self.store)
        self.accounts.tree = self.tree
        self.places = TreePlaces(self.tree)

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()


async def ensure_regions(store: Store) -> int:
    """Load the packaged region data into an empty database; return how many were loaded."""
    if await store.region_count() > 0:
        return 0
    return await import_region_files(store, packaged_region_files(), check=False)


async def open_services(
    config: Config, clock: Clock | None = None, env: Mapping[str, str] | None = None,
    *, migrate: bool = True, load_regions: bool = True, tree: RegionTree | None = None,
) -> Services:
    """Open the store, apply migrations, load regions when empty, and build the services.

    `tree` lets callers that already hold the region tree of this database (tests) skip rebuilding it.
    """
    vault = vault_from_config(config, env)
    store = await open_store(config.service.database)
    try:
        if migrate:
            await store.migrate()
        if load_regions:
            await ensure_regions(store)
        tree = tree or await load_tree(store)
    except BaseException:
        await store.close()
        raise
    clock = clock or SystemClock()
    accounts = Accounts(store, tree, vault, clock, canonical_product)
    return Services(config, store, tree, vault, clock, accounts, TreePlaces(tree))


def canonical_product(word: str) -> str | None:
    """The lexicon's canonical name for a product word (苞谷 → 玉米), None when unknown."""
    product = load_lexicon().lookup(word.strip())
    return product.name if product else None
