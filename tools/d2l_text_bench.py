#!/usr/bin/env python3
"""d2l's character language model job in Python PyTorch: tokens per second of training.

The job `lstm-lab train --task text --preset d2l` runs, written as d2l v1.0 writes it (chapters 9.5
to 10.1: `TimeMachine`, the concise `RNNLM` over `nn.LSTM` or `nn.GRU`): the text lower-cased with
every run of non-letters one space, a vocabulary of 28 characters, every window of 33 characters,
the first 10000 windows training (shuffled each epoch) in batches of 1024, the next 5000 validating;
one-hot input, hidden 32, a `Linear` to the vocabulary at every step, cross-entropy averaged over
the tokens, the gradient clipped to norm 1 as d2l's `clip_gradients` does, SGD at lr 4.
`tools/text_speed.sh` runs it beside lstm-lab's own job, in the same run, at the same threads.

Writes one JSON object to stdout: the torch version, the threads, the median training seconds per
epoch and tokens per second over every epoch (each the upper middle, as lstm-lab's summary.json
takes them), and the final validation perplexity. Without torch it writes {"skipped": "..."} and exits 0.
"""

import argparse
import json
import math
import re
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", required=True, help="timemachine.txt")
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--epochs", type=int, default=4, help="epochs, each timed")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves it")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


def windows(path, seq_len=32, train=10000, val=5000):
    with open(path, encoding="utf-8") as f:
        text = re.sub("[^A-Za-z]+", " ", f.read()).lower()
    chars = sorted(set(text) | {"<unk>"})  # d2l's Vocab: tokens sorted as strings, <unk> among them
    index = {c: i for i, c in enumerate(chars)}
    corpus = [index[c] for c in text]
    rows = [corpus[i:i + seq_len + 1] for i in range(len(corpus) - seq_len)]
    return rows[:train], rows[train:train + val], len(chars)


def main():
    args = parse_args()
    try:
        import torch
        from torch import nn
        import torch.nn.functional as F
    except ImportError as e:
        print(json.dumps({"skipped": f"no torch under {sys.executable}: {e}"}))
        return 0
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_rows, val_rows, vocab = windows(args.text)
    train = torch.tensor(train_rows)
    val = torch.tensor(val_rows)
    hidden, batch, lr, clip = 32, 1024, 4.0, 1.0

    layer = (nn.LSTM if args.cell == "lstm" else nn.GRU)(vocab, hidden)
    head = nn.Linear(hidden, vocab)
    params = list(layer.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=lr)

    def loss_of(rows):
        x, y = rows[:, :-1], rows[:, 1:]
        out, _ = layer(F.one_hot(x.T, vocab).float())  # [T, B, H], as d2l's RNNLM feeds it
        logits = head(out).swapaxes(0, 1)              # [B, T, V]
        return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))

    epoch_seconds = []
    for _ in range(args.epochs):
        order = torch.randperm(len(train))
        start = time.perf_counter()
        for first in range(0, len(train), batch):
            loss = loss_of(train[order[first:first + batch]])
            optimizer.zero_grad()
            loss.backward()
            with torch.no_grad():  # d2l's clip_gradients: one norm over every parameter
                norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
                if norm > clip:
                    for p in params:
                        p.grad[:] *= clip / norm
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        val_loss = sum(loss_of(val[i:i + batch]).item() * len(val[i:i + batch])
                       for i in range(0, len(val), batch)) / len(val)
    # Each median the upper middle of its own list, as lstm-lab's summary.json takes them.
    tokens = len(train) * 32
    rates = sorted(tokens / s for s in epoch_seconds)
    median = sorted(epoch_seconds)[len(epoch_seconds) // 2]
    print(json.dumps({
        "torch": torch.__version__,
        "python": sys.executable,
        "threads": torch.get_num_threads(),
        "cell": args.cell,
        "epochs": args.epochs,
        "seconds_per_epoch_median": median,
        "tokens_per_s_median": rates[len(rates) // 2],
        "val_perplexity": math.exp(val_loss),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
