"""PyTorch versions of Cairn's learners, for `npm run bench -- --vs-pytorch` (src-main/bench/vs-pytorch.ts).

Each program does what one Cairn round does, at the same sizes and settings (the paper tables and
Cairn's presets), written the way a PyTorch user would write it: a batched no-grad rollout, one
step per env step for all copies x agents, then the learner's update with autograd.

  pg     Table 3: shared actor Linear(obs->64)-ReLU-GRUCell(64)-Linear(64->A); per-agent critics
         Linear(27->64)-ReLU-Linear(64->64)-ReLU-Linear(64->1) with target copies; TD(lambda=1)
         targets from the target critic, one RMSprop step for the critics (clip 10), then the
         actor: full BPTT from h=0 over the round (nn.GRU), loss -sum(m A log pi)/sum m, RMSprop.
  coma   Table 4: the same actor; one shared critic Linear(27->64)-ReLU-64-ReLU-Linear(64->A) and
         its target; a ring buffer of 320 episodes, 32 sampled per round; TD(lambda=1) targets on
         the taken actions, one RMSprop critic step; actor BPTT over the sampled episodes with the
         counterfactual baseline sum_u pi(u) Q(u).
  mappo  Table 1: shared actor CNN(3x3, 32)-ReLU [+ extras] -> 64 -> 64 -> GRU(64) + LayerNorm ->
         Linear(64->A); centralised critic on the 6x6x3 state (a real 3x3 conv, 16 patches x 32
         channels, + 3N extras) with the same stack -> 1. GAE(0.99, 0.95), 15 epochs x 1
         minibatch of 10-step chunks from the rollout's stored hidden states, clipped surrogate +
         1e-4 entropy, clipped Huber(10) value loss, Adam 1e-5 (eps 1e-5), grad clip 10.
  ippo   Table 2: MAPPO's stack, one actor and one critic per agent (critic on the agent's own
         view), advantage = G - V (lambda 1).

The environment is a stand-in that only draws observations of the right shapes and values (a
favour to PyTorch: Cairn's timing includes its real environment). The round length (lock-step
steps) and env-steps per round are passed in from Cairn's measured rounds so both count alike.

Prints one JSON line: {"algo", "rounds", "seconds", "env_steps_per_s", "cpu_seconds",
"cpu_env_steps_per_s", "torch"}; the cpu_ figures count this process's CPU time (all its
threads) instead of wall time, which a loaded machine distorts far less.
Threads: torch.set_num_threads(1); the caller also sets OMP/OPENBLAS/MKL_NUM_THREADS=1.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--algo", required=True, help="pg, coma, mappo or ippo; a comma list runs each in turn")
    p.add_argument("--envs", type=int, default=32)
    p.add_argument("--agents", type=int, default=2)
    p.add_argument("--steps", type=int, default=150, help="lock-step steps per round")
    p.add_argument("--env-steps-per-round", type=float, default=0, help="Cairn's mean env steps per round (default envs x steps)")
    p.add_argument("--obs", type=int, default=33)
    p.add_argument("--env-obs", type=int, default=27)
    p.add_argument("--actions", type=int, default=6)
    p.add_argument("--state-side", type=int, default=6)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


class StubEnv:
    """Observations of Manitokan's shapes: small integers, plus the last-action one-hot."""

    def __init__(self, a):
        self.B, self.N, self.A = a.envs, a.agents, a.actions
        self.O, self.E, self.S = a.obs, a.env_obs, a.state_side

    def observe(self, last_actions):
        B, N = self.B, self.N
        obs = torch.randint(0, 11, (B, N, self.O)).float()
        obs[:, :, self.E:] = F.one_hot(last_actions, self.A).float() if self.O > self.E else obs[:, :, self.E:]
        grid = torch.randint(0, 11, (B, 3, self.S, self.S)).float()
        extras = torch.randint(0, 6, (B, 3 * N)).float()
        mask = torch.ones(B, N, self.A)
        return obs, grid, extras, mask

    def rewards(self):
        return (torch.rand(self.B, self.N) < 0.01).float() * 0.5


# ---------------------------------------------------------------- PG and COMA

class RecurrentActor(nn.Module):
    def __init__(self, obs, hidden, actions):
        super().__init__()
        self.inp = nn.Linear(obs, hidden)
        self.gru = nn.GRU(hidden, hidden)
        self.head = nn.Linear(hidden, actions)

    def step(self, x, h):
        e = F.relu(self.inp(x))
        y, h = self.gru(e.unsqueeze(0), h)
        return self.head(y[0]), h

    def sequence(self, x):  # x [T, R, obs] from h = 0
        y, _ = self.gru(F.relu(self.inp(x)))
        return self.head(y)


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


def masked_log_probs(logits, mask):
    return torch.log_softmax(logits.masked_fill(mask == 0, -1e10), -1)


def td_lambda_targets(r, v_next, m, gamma, lam):
    """r, m [T, ...]; v_next [T, ...] = V(s_{t+1}) (0 after the end)."""
    T = r.shape[0]
    out = torch.zeros_like(r)
    g = v_next[-1]
    for t in range(T - 1, -1, -1):
        g = r[t] + gamma * ((1 - lam) * v_next[t] + lam * g) * m[t]
        out[t] = g
    return out


def rollout_recurrent(env, actor, T, a):
    B, N, A = a.envs, a.agents, a.actions
    h = torch.zeros(1, B * N, a.hidden)
    last = torch.zeros(B, N, dtype=torch.long)
    xs, acts, masks, rews = [], [], [], []
    with torch.no_grad():
        for t in range(T):
            obs, _, _, mask = env.observe(last)
            logits, h = actor.step(obs.reshape(B * N, -1), h)
            probs = torch.softmax(logits.masked_fill(mask.reshape(B * N, A) == 0, -1e10), -1)
            act = torch.multinomial(probs, 1).reshape(B, N)
            xs.append(obs)
            acts.append(act)
            masks.append(mask)
            rews.append(env.rewards())
            last = act
    return torch.stack(xs), torch.stack(acts), torch.stack(masks), torch.stack(rews)


class PG:
    def __init__(self, a):
        self.a = a
        self.env = StubEnv(a)
        self.actor = RecurrentActor(a.obs, a.hidden, a.actions)
        self.critics = nn.ModuleList([mlp(a.env_obs, a.hidden, 1) for _ in range(a.agents)])
        self.targets = nn.ModuleList([mlp(a.env_obs, a.hidden, 1) for _ in range(a.agents)])
        self.targets.load_state_dict(self.critics.state_dict())
        self.opt = torch.optim.RMSprop(self.actor.parameters(), lr=5e-5, alpha=0.99, eps=1e-5)
        self.copt = torch.optim.RMSprop(self.critics.parameters(), lr=5e-5, alpha=0.99, eps=1e-5)

    def round(self):
        a = self.a
        T, B, N = a.steps, a.envs, a.agents
        x, u, mask, r = rollout_recurrent(self.env, self.actor, T, a)
        m = torch.ones(T, B, N)
        obs = x[..., : a.env_obs]
        # critic: TD(lambda = 1) targets from the target critics, one batch step
        with torch.no_grad():
            vt = torch.stack([self.targets[i](obs[:, :, i]) for i in range(N)], 2)[..., 0]
            v_next = torch.cat([vt[1:], vt[-1:]], 0)
            y = td_lambda_targets(r, v_next, m, 0.99, 1.0)
        v = torch.stack([self.critics[i](obs[:, :, i]) for i in range(N)], 2)[..., 0]
        closs = ((v - y) ** 2 * m).sum() / m.sum()
        self.copt.zero_grad()
        closs.backward()
        nn.utils.clip_grad_norm_(self.critics.parameters(), 10)
        self.copt.step()
        adv = (y - v.detach())
        # actor: full BPTT over the round from h = 0
        logits = self.actor.sequence(x.reshape(T, B * N, -1)).reshape(T, B, N, -1)
        lp = masked_log_probs(logits, mask).gather(-1, u.unsqueeze(-1))[..., 0]
        loss = -(m * adv * lp).sum() / m.sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.targets.load_state_dict(self.critics.state_dict())


class COMA:
    def __init__(self, a):
        self.a = a
        self.env = StubEnv(a)
        self.actor = RecurrentActor(a.obs, a.hidden, a.actions)
        self.critic = mlp(a.env_obs, a.hidden, a.actions)
        self.target = mlp(a.env_obs, a.hidden, a.actions)
        self.target.load_state_dict(self.critic.state_dict())
        self.opt = torch.optim.RMSprop(self.actor.parameters(), lr=5e-5, alpha=0.99, eps=1e-5)
        self.copt = torch.optim.RMSprop(self.critic.parameters(), lr=5e-5, alpha=0.99, eps=1e-5)
        self.buffer = []  # ring buffer of episodes, capacity 320

    def round(self):
        a = self.a
        T, B, N = a.steps, a.envs, a.agents
        x, u, mask, r = rollout_recurrent(self.env, self.actor, T, a)
        for b in range(B):
            if len(self.buffer) >= 320:
                self.buffer.pop(0)
            self.buffer.append((x[:, b], u[:, b], mask[:, b], r[:, b]))
        idx = torch.randperm(len(self.buffer))[:32]
        x, u, mask, r = (torch.stack([self.buffer[i][k] for i in idx.tolist()], 1) for k in range(4))
        Bs = x.shape[1]
        m = torch.ones(T, Bs, N)
        obs = x[..., : a.env_obs]
        with torch.no_grad():
            qt = self.target(obs).gather(-1, u.unsqueeze(-1))[..., 0]
            q_next = torch.cat([qt[1:], qt[-1:]], 0)
            y = td_lambda_targets(r, q_next, m, 0.99, 1.0)
        q = self.critic(obs)
        closs = (((q.gather(-1, u.unsqueeze(-1))[..., 0] - y) ** 2) * m).sum() / m.sum()
        self.copt.zero_grad()
        closs.backward()
        nn.utils.clip_grad_norm_(self.critic.parameters(), 10)
        self.copt.step()
        q = q.detach()
        logits = self.actor.sequence(x.reshape(T, Bs * N, -1)).reshape(T, Bs, N, -1)
        lp = masked_log_probs(logits, mask)
        pi = lp.exp()
        baseline = (pi * q).sum(-1).detach()
        adv = q.gather(-1, u.unsqueeze(-1))[..., 0] - baseline
        loss = -(m * adv * lp.gather(-1, u.unsqueeze(-1))[..., 0]).sum() / m.sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.target.load_state_dict(self.critic.state_dict())


# ---------------------------------------------------------------- MAPPO and IPPO

def ortho(layer, gain):
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class PpoNet(nn.Module):
    """CNN(3x3) -> [+ extras] -> 64 -> 64 -> GRU(64) + LayerNorm -> head."""

    def __init__(self, side, extras, hidden, outputs, gain):
        super().__init__()
        C = hidden // 2
        self.conv = nn.Conv2d(3, C, 3)
        nn.init.orthogonal_(self.conv.weight, math.sqrt(2))
        nn.init.zeros_(self.conv.bias)
        feat = C * (side - 2) ** 2 + extras
        self.fc1 = ortho(nn.Linear(feat, hidden), math.sqrt(2))
        self.fc2 = ortho(nn.Linear(hidden, hidden), math.sqrt(2))
        self.gru = nn.GRU(hidden, hidden)
        for name, p in self.gru.named_parameters():
            (nn.init.orthogonal_ if "weight" in name else nn.init.zeros_)(p)
        self.norm = nn.LayerNorm(hidden)
        self.head = ortho(nn.Linear(hidden, outputs), gain)

    def features(self, img, extras):  # img [R, 3, s, s], extras [R, E]
        f = F.relu(self.conv(img)).flatten(1)
        if extras is not None:
            f = torch.cat([f, extras], 1)
        return F.relu(self.fc2(F.relu(self.fc1(f))))

    def step(self, img, extras, h):
        y, h = self.gru(self.features(img, extras).unsqueeze(0), h)
        return self.head(self.norm(y[0])), h

    def chunks(self, img, extras, h0, L):  # img [L*S, ...] time-major; h0 [1, S, H]
        f = self.features(img, extras).reshape(L, h0.shape[1], -1)
        y, _ = self.gru(f, h0)
        return self.head(self.norm(y))  # [L, S, out]


def huber(e, d):
    a = e.abs()
    return torch.where(a <= d, 0.5 * e * e, d * (a - 0.5 * d))


class PPO:
    def __init__(self, a, independent):
        self.a = a
        self.ind = independent
        self.env = StubEnv(a)
        N, H, A = a.agents, a.hidden, a.actions
        la = a.obs - a.env_obs
        nets = N if independent else 1
        self.actors = nn.ModuleList([PpoNet(3, la + (a.env_obs - 27), H, A, 0.01) for _ in range(nets)])
        if independent:
            self.critics = nn.ModuleList([PpoNet(3, a.env_obs - 27, H, 1, 1.0) for _ in range(N)])
        else:
            self.critics = nn.ModuleList([PpoNet(a.state_side, 3 * N, H, 1, 1.0)])
        self.opt = torch.optim.Adam(self.actors.parameters(), lr=1e-5, eps=1e-5)
        self.copt = torch.optim.Adam(self.critics.parameters(), lr=1e-5, eps=1e-5)
        self.lam = 1.0 if independent else 0.95

    def actor_in(self, obs, i):  # obs [..., O] -> image [R, 3, 3, 3], extras [R, E]
        img = obs[..., :27].reshape(-1, 3, 3, 3)
        ex = obs[..., 27:].reshape(img.shape[0], -1)
        return img, (ex if ex.shape[1] > 0 else None)

    def round(self):
        a = self.a
        T, B, N, H, A, L = a.steps, a.envs, a.agents, a.hidden, a.actions, 10
        G = N if self.ind else 1
        ha = [torch.zeros(1, B * N // G, H) for _ in range(G)]
        hc = [torch.zeros(1, B, H) for _ in range(len(self.critics))]
        last = torch.zeros(B, N, dtype=torch.long)
        rec = {k: [] for k in ["obs", "grid", "ext", "u", "lp", "v", "r", "ha", "hc"]}
        with torch.no_grad():
            for t in range(T):
                obs, grid, ext, mask = self.env.observe(last)
                if t % L == 0:
                    rec["ha"].append([h.clone() for h in ha])
                    rec["hc"].append([h.clone() for h in hc])
                if self.ind:
                    outs = []
                    vs = []
                    for i in range(N):
                        lo, ha[i] = self.actors[i].step(*self.actor_in(obs[:, i], i), ha[i])
                        outs.append(lo)
                        v, hc[i] = self.critics[i].step(obs[:, i, :27].reshape(-1, 3, 3, 3), None, hc[i])
                        vs.append(v[:, 0])
                    logits = torch.stack(outs, 1)
                    v = torch.stack(vs, 1)
                else:
                    lo, ha[0] = self.actors[0].step(*self.actor_in(obs.reshape(B * N, -1), 0), ha[0])
                    logits = lo.reshape(B, N, A)
                    vv, hc[0] = self.critics[0].step(grid, ext, hc[0])
                    v = vv[:, 0:1].expand(B, N)
                lp = masked_log_probs(logits, mask)
                u = torch.multinomial(lp.exp().reshape(B * N, A), 1).reshape(B, N)
                rec["obs"].append(obs); rec["grid"].append(grid); rec["ext"].append(ext)
                rec["u"].append(u); rec["lp"].append(lp.gather(-1, u.unsqueeze(-1))[..., 0]); rec["v"].append(v)
                rec["r"].append(self.env.rewards())
                last = u
        obs, grid, ext, u, old_lp, old_v, r = (torch.stack(rec[k]) for k in ["obs", "grid", "ext", "u", "lp", "v", "r"])
        # GAE over [T, B, N]
        adv = torch.zeros(T, B, N)
        g = torch.zeros(B, N)
        for t in range(T - 1, -1, -1):
            vn = old_v[t + 1] if t + 1 < T else torch.zeros(B, N)
            d = r[t] + 0.99 * vn - old_v[t]
            g = d + 0.99 * self.lam * g
            adv[t] = g
        ret = adv + old_v
        if self.ind:
            adv = (adv - adv.mean((0, 1))) / (adv.std((0, 1)) + 1e-5)
        else:
            adv = (adv - adv.mean()) / (adv.std() + 1e-5)
        K = T // L  # chunks; sequences = K x copies (x agents)
        def chunked(x):  # [T, B, ...] -> [L, K*B, ...]
            return x[: K * L].reshape(K, L, B, *x.shape[2:]).transpose(0, 1).reshape(L, K * B, *x.shape[2:])
        cobs, cgrid, cext, cu, clp, cv, cret, cadv = (chunked(z) for z in [obs, grid, ext, u, old_lp, old_v, ret, adv])
        for _ in range(15):
            perm = torch.randperm(K * B)  # one minibatch: every (chunk, copy) unit, shuffled
            o, gr, ex, uu, olp, ov, rt, ad = (z[:, perm] for z in [cobs, cgrid, cext, cu, clp, cv, cret, cadv])
            S = K * B
            aloss = 0
            closs = 0
            for i in range(G):
                ag = slice(i, i + 1) if self.ind else slice(0, N)
                # stored states per chunk start, rows (copy, agent) -> units (chunk, copy), shuffled
                h0 = torch.cat([rec["ha"][k][i] for k in range(K)], 1).reshape(K * B, N // G, H)[perm].reshape(1, -1, H)
                oo = o[:, :, ag].reshape(L * S * (N // G), -1)
                logits = self.actors[i].chunks(*self.actor_in(oo, i), h0, L).reshape(L, S, N // G, A)
                lp = torch.log_softmax(logits, -1)
                nlp = lp.gather(-1, uu[:, :, ag].unsqueeze(-1))[..., 0]
                ratio = (nlp - olp[:, :, ag]).exp()
                a_ = ad[:, :, ag]
                surr = torch.min(ratio * a_, ratio.clamp(0.8, 1.2) * a_)
                ent = -(lp.exp() * lp).sum(-1)
                aloss = aloss - surr.mean() - 1e-4 * ent.mean()
            for i in range(len(self.critics)):
                if self.ind:
                    h0 = torch.cat([rec["hc"][k][i] for k in range(K)], 1)[:, perm]
                    v = self.critics[i].chunks(o[:, :, i, :27].reshape(-1, 3, 3, 3), None, h0, L)[..., 0]
                    tgt, vo = rt[:, :, i], ov[:, :, i]
                else:
                    h0 = torch.cat([rec["hc"][k][0] for k in range(K)], 1)[:, perm]
                    v = self.critics[0].chunks(gr.reshape(-1, *gr.shape[2:]), ex.reshape(L * S, -1), h0, L)[..., 0]
                    v = v.unsqueeze(-1).expand(L, S, N)
                    tgt, vo = rt, ov
                vc = vo + (v - vo).clamp(-0.2, 0.2)
                closs = closs + torch.max(huber(tgt - v, 10), huber(tgt - vc, 10)).mean()
            self.opt.zero_grad()
            aloss.backward()
            for net in self.actors:
                nn.utils.clip_grad_norm_(net.parameters(), 10)
            self.opt.step()
            self.copt.zero_grad()
            closs.backward()
            for net in self.critics:
                nn.utils.clip_grad_norm_(net.parameters(), 10)
            self.copt.step()


def main():
    a = parse()
    torch.set_num_threads(1)
    factories = {"pg": PG, "coma": COMA, "mappo": lambda a: PPO(a, False), "ippo": lambda a: PPO(a, True)}
    for algo in a.algo.split(","):
        if algo not in factories:
            raise SystemExit(f"--algo: expected pg, coma, mappo or ippo, got {algo!r}")
        torch.manual_seed(a.seed)
        learner = factories[algo](a)
        learner.round()  # warm-up, as Cairn's side
        per_round = a.env_steps_per_round or a.envs * a.steps
        rounds = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while True:
            learner.round()
            rounds += 1
            dt = time.perf_counter() - t0
            if dt >= a.seconds:
                break
        cpu = time.process_time() - c0
        print(
            json.dumps(
                {
                    "algo": algo,
                    "rounds": rounds,
                    "seconds": dt,
                    "env_steps_per_s": rounds * per_round / dt,
                    "cpu_seconds": cpu,
                    "cpu_env_steps_per_s": rounds * per_round / cpu,
                    "torch": torch.__version__,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
