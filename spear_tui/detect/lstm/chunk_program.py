"""The stacked LSTM's compiled program: score chunks and train on them, a group of them per XLA call.

Kept apart from `stacked_lstm.py` (the net's state, checkpoints, compile and dispatch) because this is
what runs on XLA: the forward pass from the nested weights (`_forward`, no Flax object graph at run
time), the per-message loss, the trimmed chunk score and the gated Adam steps (`_chunk_step`), and
that over a group of chunks in order (`_group_step`).
"""

from __future__ import annotations


def _forward(params, x):
    """The net's prediction from its nested weights: what `_build_model`'s module computes (the same
    operations in the same order, so the same program), without Flax's object graph."""
    import jax.numpy as jnp

    from spear_tui.detect.kernels.lstm_kernel import lstm_layer

    h = jnp.transpose(x, (1, 2, 0))  # (time, features, batch)
    for i in range(len(params["cells"])):  # int keys, as param_shapes and Flax's pure dicts have them
        cell = params["cells"][i]
        h = lstm_layer(h, cell["dense_i"]["kernel"], cell["dense_h"]["kernel"], cell["dense_h"]["bias"])
    return jnp.einsum("tub,uf->btf", h, params["out"]["kernel"]) + params["out"]["bias"]


def _message_losses(graphdef, kind, params, x, y):
    """(batch, seq_len) loss of each predicted message (`graphdef` None: `_forward`; else Flax's module)."""
    import jax.numpy as jnp
    import optax

    if graphdef is None:
        pred = _forward(params, x)
    else:
        from flax import nnx

        pred = nnx.merge(graphdef, params)(x)
    diff = pred - y
    if kind == "huber":
        return jnp.mean(optax.huber_loss(diff, delta=1.0), axis=-1) * 2.0  # x2: equals MSE for small errors
    return jnp.mean(diff**2, axis=-1)


def _trimmed(err, mask, trim: float):
    """Mean of the masked per-message losses without the largest `trim` fraction (robust chunk score)."""
    import jax.numpy as jnp

    flat = jnp.where(mask > 0, err, -jnp.inf).reshape(-1)
    n = jnp.sum(mask)
    keep = jnp.floor(n * (1.0 - trim))
    ranked = jnp.sort(flat)[::-1]  # largest first; padding (-inf) last
    pos = jnp.arange(ranked.shape[0])
    use = (pos >= n - keep) & (pos < n)
    return jnp.sum(jnp.where(use, ranked, 0.0)) / jnp.maximum(keep, 1.0)


def _loss(graphdef, kind, params, x, y, mask):
    """Masked mean loss, with the per-message losses as auxiliary output (for the trimmed score)."""
    import jax.numpy as jnp

    err = _message_losses(graphdef, kind, params, x, y)
    return jnp.sum(err * mask) / jnp.maximum(jnp.sum(mask), 1.0), err


def _chunk_step(graphdef, unravel, tx, kind, trim, flat, opt_state, x, y, mask, steps, gate):
    """score = loss before any update (from the first step's forward pass), then `steps` Adam steps
    (0 = score only) unless score > gate (an anomalous chunk is not learned: one Adam step on it
    measurably raised the loss of all following normal chunks).

    train_loss = the mean of the losses the optimiser saw, each before its update (the paper's and
    Keras' "training loss"); with no step taken, the chunk's plain (untrimmed) loss. No extra forward
    pass after training: it cost a quarter of the chunk's time. One compiled program for any
    `steps`/`gate`.
    """
    import jax
    import jax.numpy as jnp
    import optax

    def loss_fn(p):
        return _loss(graphdef, kind, unravel(p), x, y, mask)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def update(p, o, grads):
        updates, o = tx.update(grads, o, p)
        return optax.apply_updates(p, updates), o

    (loss0, err), grads = grad_fn(flat)
    score = _trimmed(err, mask, trim) if trim > 0 else loss0
    steps = jnp.where(score > gate, 0, steps)
    new_flat, new_opt = update(flat, opt_state, grads)
    take = steps > 0  # a select, not a cond: both branches are cheap next to the gradient
    flat = jnp.where(take, new_flat, flat)
    opt_state = jax.tree.map(lambda a, b: jnp.where(take, a, b), new_opt, opt_state)

    def body(_, carry):
        p, o, total = carry
        (loss, _), g = grad_fn(p)
        p, o = update(p, o, g)
        return p, o, total + loss

    flat, opt_state, total = jax.lax.fori_loop(1, steps, body, (flat, opt_state, loss0))
    train_loss = total / jnp.maximum(steps, 1)
    return flat, opt_state, jnp.stack([score, train_loss])


def _group_step(graphdef, unravel, tx, kind, trim, flat, opt_state, xs, ys, masks, steps, gates, active):
    """`_chunk_step` over a group of chunks in order, in one call: xs, ys (G, batch, seq_len, features),
    masks (G, batch, seq_len), steps, gates and active (G,). A slot with active 0 leaves the weights
    and Adam's state as they are (a group shorter than G). Returns the new weights and state and the
    (G, 2) [score, train_loss] of every slot.

    Why: one call per chunk cost more in XLA's per-call work (launch, thread hand-offs) and the
    caller's dispatch than the net's arithmetic (BENCHMARKS.md "End-to-end scan"); every chunk runs
    through this one program, so a chunk's result does not depend on how many share its call.
    """
    import jax
    import jax.numpy as jnp

    def one(carry, inp):
        x, y, mask, n, gate, on = inp

        def run(c):
            f, o, out = _chunk_step(graphdef, unravel, tx, kind, trim, c[0], c[1], x, y, mask, n, gate)
            return f, o, out

        def skip(c):
            return c[0], c[1], jnp.zeros(2, jnp.float32)

        f, o, out = jax.lax.cond(on > 0, run, skip, carry)
        return (f, o), out

    (flat, opt_state), outs = jax.lax.scan(one, (flat, opt_state), (xs, ys, masks, steps, gates, active))
    return flat, opt_state, outs
