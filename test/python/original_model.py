# The original Python model service, as the course project ships it, for interop tests against predstream.
"""Consumes `<prefix>features` and publishes predictions to `<prefix>y_pred` the way the original does.

Faithful to the original on the wire:
  * pika BlockingConnection to 127.0.0.1 with guest/guest,
  * `queue_declare(queue=NAME)` for `<prefix>features` and `<prefix>y_pred` (not durable, no arguments),
  * `basic_consume(..., auto_ack=True)` with no prefetch limit,
  * `pickle.load` of the model, `model.predict(np.array(features).reshape(1, -1))[0]`,
  * `json.dumps({'id': message_id, 'body': prediction})` to y_pred, transient, no content type.

Deliberate differences, for a test:
  * Stops after `--count` messages, or after `--timeout` seconds, whichever comes first (exit 0 when
    all arrived, 2 on timeout), instead of running forever.
  * Prints one JSON line per prediction on stdout: {"id": <id>, "y_pred": <prediction>}.
"""
import argparse
import json
import pickle
import sys

import numpy as np
import pika


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--prefix', default='', help='prepended to the queue names (t1. gives t1.features)')
    p.add_argument('--count', type=int, required=True, help='stop after this many messages')
    p.add_argument('--model', default='models/myfile.pkl', help='scikit-learn model pickle')
    p.add_argument('--timeout', type=float, default=60.0, help='give up after this many seconds')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5672)
    return p.parse_args()


def main():
    args = parse_args()
    with open(args.model, 'rb') as pkl_file:
        regressor = pickle.load(pkl_file)

    features_queue = args.prefix + 'features'
    y_pred_queue = args.prefix + 'y_pred'
    connection = pika.BlockingConnection(
        pika.ConnectionParameters(
            host=args.host, port=args.port, credentials=pika.PlainCredentials('guest', 'guest')
        )
    )
    channel = connection.channel()
    channel.queue_declare(queue=features_queue)
    channel.queue_declare(queue=y_pred_queue)

    state = {'seen': 0, 'timed_out': False}

    def callback(ch, method, properties, body):
        message = json.loads(body)
        features = message['body']
        message_id = message['id']
        prediction = regressor.predict(np.array(features).reshape(1, -1))[0]
        ch.basic_publish(
            exchange='', routing_key=y_pred_queue, body=json.dumps({'id': message_id, 'body': prediction})
        )
        sys.stdout.write(json.dumps({'id': message_id, 'y_pred': float(prediction)}) + '\n')
        sys.stdout.flush()
        state['seen'] += 1
        if state['seen'] >= args.count:
            ch.stop_consuming()

    def on_timeout():
        state['timed_out'] = True
        channel.stop_consuming()

    connection.call_later(args.timeout, on_timeout)
    channel.basic_consume(queue=features_queue, on_message_callback=callback, auto_ack=True)
    channel.start_consuming()
    connection.close()
    if state['timed_out']:
        sys.stderr.write(
            f"original_model: timed out after {args.timeout} s with {state['seen']} of {args.count} messages\n"
        )
        sys.exit(2)


if __name__ == '__main__':
    main()
