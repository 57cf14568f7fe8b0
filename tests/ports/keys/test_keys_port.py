"""The keys port (KMS): the behaviour every adapter must have."""

from __future__ import annotations

import pytest

from stratus import ValidationError
from stratus.errors import LimitExceeded, ResourceNotFound
from stratus.resources.keys import IncorrectKey, InvalidCiphertext, KeyDisabled, KMSInvalidState

DAY = 86400


def test_encrypt_decrypt_round_trip_with_context(kms) -> None:
    ct = kms.key.encrypt(b"4111 1111 1111 1111", context={"customer": "c1"})
    assert b"4111" not in ct
    assert kms.key.decrypt(ct, context={"customer": "c1"}) == b"4111 1111 1111 1111"
    # Two encryptions of the same plaintext differ (random nonce).
    assert kms.key.encrypt(b"x") != kms.key.encrypt(b"x")


def test_context_must_match(kms) -> None:
    ct = kms.key.encrypt(b"secret", context={"customer": "c1", "purpose": "card"})
    # Order of the context does not matter, its content does.
    assert kms.key.decrypt(ct, context={"purpose": "card", "customer": "c1"}) == b"secret"
    for wrong in [{"customer": "c2", "purpose": "card"}, {"customer": "c1"}, None]:
        with pytest.raises(InvalidCiphertext):
            kms.key.decrypt(ct, context=wrong)


def test_flipping_any_byte_is_detected(kms) -> None:
    ct = kms.key.encrypt(b"attack at dawn", context={"k": "v"})
    for i in range(len(ct)):
        tampered = bytearray(ct)
        tampered[i] ^= 0x01
        with pytest.raises(InvalidCiphertext):
            kms.key.decrypt(bytes(tampered), context={"k": "v"})
    with pytest.raises(InvalidCiphertext):
        kms.key.decrypt(ct[:-1], context={"k": "v"})


def test_ciphertext_of_another_key_is_refused(kms) -> None:
    ct = kms.other.encrypt(b"profile")
    with pytest.raises(IncorrectKey):
        kms.key.decrypt(ct)
    assert kms.other.decrypt(ct) == b"profile"


def test_sizes_and_bad_input(kms) -> None:
    assert kms.key.decrypt(kms.key.encrypt(b"a" * 4096)) == b"a" * 4096
    with pytest.raises(ValidationError, match="4096"):
        kms.key.encrypt(b"a" * 4097)
    with pytest.raises(ValidationError, match="plaintext"):
        kms.key.encrypt(b"")
    with pytest.raises(ValidationError, match="bytes"):
        kms.key.encrypt("text")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="encryption context"):
        kms.key.encrypt(b"x", context={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="spec"):
        kms.key.generate_data_key(spec="AES_512")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="pending_days"):
        kms.key.schedule_deletion(6)
    with pytest.raises(ValidationError, match="pending_days"):
        kms.key.schedule_deletion(31)


def test_declaration_is_validated() -> None:
    from stratus import App

    app = App("bad")
    with pytest.raises(ValidationError, match="rotation"):
        app.key("k", rotation=30)
    with pytest.raises(ValidationError, match="key name"):
        app.key("bad name")


def test_data_keys(kms) -> None:
    dk = kms.key.generate_data_key(context={"file": "a"})
    assert len(dk.plaintext) == 32
    assert dk.plaintext.hex() not in repr(dk) and str(dk.plaintext) not in repr(dk)
    assert kms.key.decrypt_data_key(dk.ciphertext, context={"file": "a"}) == dk.plaintext
    assert len(kms.key.generate_data_key(spec="AES_128").plaintext) == 16
    with pytest.raises(InvalidCiphertext):
        kms.key.decrypt_data_key(dk.ciphertext, context={"file": "b"})


def test_envelope_seal_open_any_size(kms) -> None:
    big = bytes(range(256)) * 4000  # 1 MB, far beyond the 4 KB of encrypt
    blob = kms.key.seal(big, context={"user": "u1"})
    assert kms.key.open(blob, context={"user": "u1"}) == big
    assert kms.key.open(kms.key.seal(b""), context=None) == b""
    with pytest.raises(InvalidCiphertext):
        kms.key.open(blob, context={"user": "u2"})
    small = kms.key.seal(b"hello", context={"user": "u1"})
    for i in range(len(small)):
        tampered = bytearray(small)
        tampered[i] ^= 0x80
        with pytest.raises(InvalidCiphertext):
            kms.key.open(bytes(tampered), context={"user": "u1"})
    with pytest.raises(InvalidCiphertext):
        kms.key.open(b"\x01")


def test_rotation_keeps_old_ciphertexts_readable(kms) -> None:
    before = kms.key.describe()
    old = kms.key.encrypt(b"old", context={"a": "b"})
    kms.key.rotate()
    new = kms.key.encrypt(b"new", context={"a": "b"})
    after = kms.key.describe()
    assert after.key_id == before.key_id
    assert after.material_versions == before.material_versions + 1
    assert after.on_demand_rotations_remaining == before.on_demand_rotations_remaining - 1
    assert after.last_rotation_date is not None
    assert old != new
    assert kms.key.decrypt(old, context={"a": "b"}) == b"old"
    assert kms.key.decrypt(new, context={"a": "b"}) == b"new"


def test_on_demand_rotation_limit(kms) -> None:
    for _ in range(25):
        kms.other.rotate()
    with pytest.raises(LimitExceeded):
        kms.other.rotate()
    assert kms.other.describe().on_demand_rotations_remaining == 0


def test_automatic_rotation_is_due_by_the_clock(kms) -> None:
    assert kms.key.rotate_if_due() is False  # rotation off
    d = kms.auto.describe()
    assert d.rotation_enabled and d.rotation_period_days == 90
    ct = kms.auto.encrypt(b"v1")
    assert kms.auto.rotate_if_due() is False
    kms.advance(89 * DAY)
    assert kms.auto.rotate_if_due() is False
    kms.advance(1 * DAY)
    assert kms.auto.rotate_if_due() is True
    assert kms.auto.rotate_if_due() is False  # next one is 90 days later
    assert kms.auto.describe().material_versions == d.material_versions + 1
    assert kms.auto.decrypt(ct) == b"v1"


def test_disable_and_enable(kms) -> None:
    ct = kms.key.encrypt(b"data")
    kms.key.disable()
    assert kms.key.describe().state == "Disabled"
    with pytest.raises(KeyDisabled):
        kms.key.encrypt(b"data")
    with pytest.raises(KeyDisabled):
        kms.key.decrypt(ct)
    with pytest.raises(KeyDisabled):
        kms.key.generate_data_key()
    kms.key.enable()
    assert kms.key.describe().state == "Enabled"
    assert kms.key.decrypt(ct) == b"data"


def test_deletion_can_be_cancelled_and_comes_back_disabled(kms) -> None:
    ct = kms.key.encrypt(b"keep me")
    when = kms.key.schedule_deletion(7)
    d = kms.key.describe()
    assert d.state == "PendingDeletion" and d.deletion_date == when
    with pytest.raises(KMSInvalidState):
        kms.key.decrypt(ct)
    with pytest.raises(KMSInvalidState):
        kms.key.enable()
    with pytest.raises(KMSInvalidState):
        kms.key.schedule_deletion(10)
    kms.advance(6 * DAY)
    kms.key.cancel_deletion()
    assert kms.key.describe().state == "Disabled"
    with pytest.raises(KMSInvalidState):
        kms.key.cancel_deletion()
    kms.key.enable()
    kms.advance(30 * DAY)
    assert kms.key.decrypt(ct) == b"keep me"


def test_deletion_window_then_crypto_shredding(kms) -> None:
    ct = kms.key.encrypt(b"personal data", context={"user": "u1"})
    sealed = kms.key.seal(b"more personal data")
    other_ct = kms.other.encrypt(b"unaffected")
    kms.key.schedule_deletion(7)
    kms.advance(7 * DAY - 1)
    with pytest.raises(KMSInvalidState):
        kms.key.decrypt(ct, context={"user": "u1"})
    kms.advance(1)
    with pytest.raises(ResourceNotFound):
        kms.key.decrypt(ct, context={"user": "u1"})
    with pytest.raises(ResourceNotFound):
        kms.key.describe()
    # Gone for good: a new process on the same state folder cannot bring it back.
    kms.restart()
    with pytest.raises(ResourceNotFound):
        kms.key.decrypt(ct, context={"user": "u1"})
    with pytest.raises(ResourceNotFound):
        kms.key.open(sealed)
    with pytest.raises(ResourceNotFound):
        kms.key.encrypt(b"new")
    assert kms.other.decrypt(other_ct) == b"unaffected"


def test_restart_keeps_keys_and_state(kms) -> None:
    d = kms.key.describe()
    ct = kms.key.encrypt(b"durable", context={"c": "1"})
    kms.key.rotate()
    ct2 = kms.key.encrypt(b"durable 2")
    kms.other.disable()
    kms.restart()
    assert kms.key.describe().key_id == d.key_id
    assert kms.key.describe().description == "card data"
    assert kms.key.decrypt(ct, context={"c": "1"}) == b"durable"
    assert kms.key.decrypt(ct2) == b"durable 2"
    assert kms.other.describe().state == "Disabled"
