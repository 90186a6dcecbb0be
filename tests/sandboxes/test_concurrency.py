"""8 threads x 50 calls against one sandbox on an SQLite file: 400 records, no lost update."""
import pytest
from tests.sandboxes.hammer import hammer


@pytest.mark.django_db(transaction=True)
def test_eight_threads_of_fifty_calls_lose_nothing():
    result = hammer(threads=8, calls=50)

    assert result["errors"] == []
    assert result["tags"] == [50] * 8
    assert result["tag_records"] == 400
    # 8 CreateKey records, then the 400 TagResource ones: numbered without a gap or a repeat.
    assert result["sequences"] == list(range(1, 409))
    assert result["version"] == 408
    # BEGIN IMMEDIATE serialises SQLite's writers: no attempt ever loses a race there.
    assert result["conflicts"] == 0
