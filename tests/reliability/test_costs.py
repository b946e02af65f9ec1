"""What each request costs, counted from the AWS calls it makes (bench/costs.py): the goals hold
exactly, at every batch size."""

from __future__ import annotations

from bench.costs import run


def test_each_request_makes_the_calls_it_should_and_no_more():
    costs = run(batch_sizes=(10, 100, 1000))
    for name, cost in costs.items():
        print(f"\ncost of {name}: {cost['calls']}, {cost['dynamodb_items_written']} item(s) written", end="")
    assert costs["poll"]["calls"] == {"dynamodb.GetItem": 1}
    assert costs["list page (20)"]["calls"] == {"dynamodb.Query": 1}
    for create in ("create chat job", "create project job"):
        calls = costs[create]["calls"]
        writes = sum(n for op, n in calls.items() if op.split(".")[1] in ("PutItem", "UpdateItem", "TransactWriteItems"))
        assert writes <= 2 and calls["sqs.SendMessage"] == 1, (create, calls)
    # A batch's progress is one item, whatever its size.
    assert {str(costs[f"batch poll ({n} children)"]["calls"]) for n in (10, 100, 1000)} == {"{'dynamodb.GetItem': 1}"}
