// A complete module sink: posts each friction signal as a short message to a chat incoming
// webhook (Slack and Mattermost accept `{"text": ...}`). Use it with:
//
//   sinks:
//     - type: module
//       name: team-chat
//       path: ./examples/sinks/chat-sink.mjs
//       options:
//         webhook_url: ${env:CHAT_WEBHOOK_URL}
//         min_severity: warning
//
// The contract (see README, "Your own sink"): export createSink(options, context) returning
// { deliver(batch), start?(), close?(), maxBatch? }. deliver gets transitions oldest first and
// resolves once the target has them; throw an error with `permanent: true` for a refusal that
// retrying cannot fix (it becomes a dead letter), anything else is retried with backoff.

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 };
const ICON = { firing: '🔴', updated: '🟠', resolved: '✅' };

class DeliveryFailure extends Error {
  constructor(message, permanent) {
    super(message);
    this.permanent = permanent;
  }
}

/** @param {{ webhook_url?: string, min_severity?: string, timeout_ms?: number }} options */
export function createSink(options, context) {
  const url = options.webhook_url;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('options.webhook_url must be an http(s) URL');
  const minRank = SEVERITY_RANK[options.min_severity ?? 'info'];
  if (minRank === undefined) throw new Error('options.min_severity must be info, warning or critical');
  const timeout = options.timeout_ms ?? 10_000;

  const text = (d) => {
    const s = d.signal;
    const owner = s.owner ? ` · owner ${s.owner}` : '';
    const link = `${context.externalUrl}/?fingerprint=${s.fingerprint}`;
    return `${ICON[d.transition]} *${s.title}* (${s.severity}, priority ${s.priority}${owner})\n${s.summary}\n${link}`;
  };

  return {
    maxBatch: 20,
    async deliver(batch) {
      const wanted = batch.filter((d) => d.transition === 'resolved' || SEVERITY_RANK[d.signal.severity] >= minRank);
      if (wanted.length === 0) return;
      let res;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: wanted.map(text).join('\n\n') }),
          signal: AbortSignal.timeout(timeout),
        });
      } catch (err) {
        throw new DeliveryFailure(`chat webhook unreachable: ${err.cause?.code ?? err.message}`, false);
      }
      if (res.ok) return;
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw new DeliveryFailure(`chat webhook answered HTTP ${res.status}`, permanent);
    },
  };
}
