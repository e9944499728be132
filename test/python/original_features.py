# The original Python features service, as the course project ships it, for interop tests against predstream.
"""Publishes `count` diabetes rows exactly the way the original features service does.

Faithful to the original on the wire:
  * one pika BlockingConnection per row (the original opens a new one every iteration),
  * `queue_declare(queue=NAME)` for `<prefix>y_true` and `<prefix>features` (not durable, no arguments),
  * `message_id = datetime.timestamp(datetime.now())`, a float of Unix seconds,
  * the row from `np.random.randint(0, X.shape[0] - 1)` (its off-by-one: never the last row),
  * `json.dumps({'id': message_id, 'body': y[i]})` to y_true, then
    `json.dumps({'id': message_id, 'body': list(X[i])})` to features, default exchange, transient,
    no content type.

Deliberate differences, for a test:
  * No 5-10 s pacing sleep. Without it two rows can read the same `datetime.now()` (microsecond
    resolution) and share an id, which would make the test's row count depend on timing. The script
    therefore waits (1 ms sleeps) until the clock has moved past the previous id before using it:
    the ids stay real timestamps, as the original's would be when its pacing keeps them apart.
  * `--seed` seeds numpy's global generator so a run can be replayed.
  * Stops after `--count` rows; prints one JSON line per row sent on stdout:
    {"id": <float id>, "id_json": "<id exactly as json.dumps wrote it>", "row": i,
     "y_true": y[i], "features": list(X[i])}.
"""
import argparse
import json
import sys
import time
from datetime import datetime

import numpy as np
import pika
from sklearn.datasets import load_diabetes


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--prefix', default='', help='prepended to the queue names (t1. gives t1.features)')
    p.add_argument('--count', type=int, required=True, help='rows to publish')
    p.add_argument('--seed', type=int, default=None, help='seed for numpy.random (row order)')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5672)
    return p.parse_args()


def next_id(last_id):
    """The original's id; waits for the clock to pass the previous one so ids never repeat (see above)."""
    message_id = datetime.timestamp(datetime.now())
    while last_id is not None and message_id <= last_id:
        time.sleep(0.001)
        message_id = datetime.timestamp(datetime.now())
    return message_id


def main():
    args = parse_args()
    if args.seed is not None:
        np.random.seed(args.seed)
    X, y = load_diabetes(return_X_y=True)
    y_true_queue = args.prefix + 'y_true'
    features_queue = args.prefix + 'features'
    params = pika.ConnectionParameters(
        host=args.host, port=args.port, credentials=pika.PlainCredentials('guest', 'guest')
    )
    last_id = None
    for _ in range(args.count):
        random_row = np.random.randint(0, X.shape[0] - 1)
        message_id = next_id(last_id)
        last_id = message_id

        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.queue_declare(queue=y_true_queue)
        channel.queue_declare(queue=features_queue)

        message_y_true = {'id': message_id, 'body': y[random_row]}
        channel.basic_publish(exchange='', routing_key=y_true_queue, body=json.dumps(message_y_true))
        message_features = {'id': message_id, 'body': list(X[random_row])}
        channel.basic_publish(exchange='', routing_key=features_queue, body=json.dumps(message_features))
        connection.close()

        record = {
            'id': message_id,
            'id_json': json.dumps(message_id),
            'row': int(random_row),
            'y_true': float(y[random_row]),
            'features': [float(v) for v in X[random_row]],
        }
        sys.stdout.write(json.dumps(record) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
