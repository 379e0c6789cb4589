// A scriptable SMPP 3.4 server (SMSC) for cuckoo's SMS tests and benchmark. Loopback only.
//
// Usage: node smsc.js [port]   (port 0 = any free port)
// Control: one JSON command per line on stdin; events: one JSON object per line on stdout.
//   {"cmd":"set", ...behaviour}   merge behaviour (see `cfg` below)
//   {"cmd":"down"}                stop listening and cut every session (an outage)
//   {"cmd":"up"}                  listen again on the same port
//   {"cmd":"drop"}                cut every session now (the listener stays)
//   {"cmd":"stats"}               emit {"event":"stats", ...counters}
//   {"cmd":"unbind"}              send unbind to every bound session
// Events: listening, bind, bind_refused, submit, submit_ignored, enquire_link_ignored, message (parts reassembled), receipt_sent, receipt_ack,
//   enquire_link, unbind, close, stats.
'use strict';
const smpp = require('smpp');
const readline = require('readline');

const cfg = {
  refuse_status: 0, // answer submits with this status instead of 0 ...
  refuse_count: 0, //  ... for this many submits (-1 = forever)
  throttle_count: 0, // answer this many submits with ESME_RTHROTTLED (0x58)
  max_tps: 0, // answer ESME_RTHROTTLED above this many submits per second (0 = no limit)
  drop_after: -1, // accept this many more submits, then cut the connection on the next one
  receipt_delay_ms: 0,
  receipt_stat: 'DELIVRD', // stat: in receipts (DELIVRD, UNDELIV, EXPIRED, REJECTD, ...)
  receipt_mode: 'both', // both | text | tlv | none
  receipt_stat_for: {}, // destination_addr -> stat, overrides receipt_stat
  quiet: false, // no submit/message events (benchmark)
  receipt_first_part_only: false, // one receipt per long message (for its first part)
  receipt_fail_part: 0, // this part of a long message gets stat UNDELIV (0 = none)
  silent: false, // a hung SMSC: answer neither submit_sm nor enquire_link
  password: null, // if set, bind_transceiver with another password gets ESME_RBINDFAIL
};
const MESSAGE_STATE = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8, ENROUTE: 1 };

let port = parseInt(process.argv[2] || '0', 10);
let nextId = 1000;
let submitsSinceDrop = 0;
let tpsWindow = { second: 0, count: 0 };
const counters = { submits: 0, accepted: 0, throttled: 0, refused: 0, receipts_sent: 0, receipt_acks: 0, binds: 0 };
const concat = new Map(); // key -> {total, parts: Map(seq -> text)}
const pendingReceipts = []; // receipts waiting for a bound session
const sessions = new Set();

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function pad(n) {
  return String(n).padStart(2, '0');
}
function smppDate(d) {
  return pad(d.getUTCFullYear() % 100) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes());
}

function boundSession() {
  for (const s of sessions) if (s.bound && s.socket.writable) return s;
  return null;
}

function sendReceipt(r) {
  const session = boundSession();
  if (!session) {
    pendingReceipts.push(r); // a real SMSC keeps receipts until the ESME binds again
    return;
  }
  const now = new Date();
  const text = 'id:' + r.id + ' sub:001 dlvrd:' + (r.stat === 'DELIVRD' ? '001' : '000') + ' submit date:' + smppDate(r.submitted) +
    ' done date:' + smppDate(now) + ' stat:' + r.stat + ' err:000 text:' + r.text.slice(0, 20).replace(/[^\x20-\x7e]/g, '.');
  const pdu = {
    source_addr: r.dest,
    destination_addr: r.src,
    esm_class: 0x04, // MC delivery receipt
    data_coding: 0,
    short_message: r.mode === 'tlv' ? '' : text,
  };
  if (r.mode !== 'text') {
    pdu.receipted_message_id = r.id;
    pdu.message_state = MESSAGE_STATE[r.stat] || 7;
  }
  session.deliver_sm(pdu, (resp) => {
    counters.receipt_acks++;
    emit({ event: 'receipt_ack', message_id: r.id, status: resp.command_status });
    if (resp.command_status !== 0) setTimeout(() => sendReceipt(r), 200); // resend later
  });
  counters.receipts_sent++;
  emit({ event: 'receipt_sent', message_id: r.id, stat: r.stat, mode: r.mode });
}

function flushPendingReceipts() {
  while (pendingReceipts.length && boundSession()) sendReceipt(pendingReceipts.shift());
}

function onSubmit(session, pdu) {
  counters.submits++;
  if (cfg.silent) {
    emit({ event: 'submit_ignored', dest: pdu.destination_addr });
    return;
  }
  const sm = pdu.short_message || {};
  const udh = (sm.udh || []).map((b) => Buffer.from(b).toString('hex'));
  const text = typeof sm === 'string' ? sm : String(sm.message || '');

  if (cfg.drop_after >= 0) {
    if (submitsSinceDrop >= cfg.drop_after) {
      cfg.drop_after = -1;
      submitsSinceDrop = 0;
      emit({ event: 'dropping', dest: pdu.destination_addr });
      session.destroy(); // no answer: the ESME must send it again
      return;
    }
    submitsSinceDrop++;
  }
  let status = 0;
  const sec = Math.floor(Date.now() / 1000);
  if (tpsWindow.second !== sec) tpsWindow = { second: sec, count: 0 };
  tpsWindow.count++;
  if (cfg.throttle_count > 0) {
    cfg.throttle_count--;
    status = 0x58;
  } else if (cfg.max_tps > 0 && tpsWindow.count > cfg.max_tps) {
    status = 0x58;
  } else if (cfg.refuse_count !== 0) {
    if (cfg.refuse_count > 0) cfg.refuse_count--;
    status = cfg.refuse_status || 0x0b; // default ESME_RINVDSTADR
  }
  const id = status === 0 ? (nextId++).toString(16) : '';
  if (status === 0x58) counters.throttled++;
  else if (status !== 0) counters.refused++;
  else counters.accepted++;
  session.send(pdu.response({ command_status: status, message_id: id }));
  if (!cfg.quiet) {
    emit({
      event: 'submit', message_id: id, status, system_id: session.system_id,
      dest: pdu.destination_addr, src: pdu.source_addr,
      src_ton: pdu.source_addr_ton, data_coding: pdu.data_coding, esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery, udh, text,
    });
  }
  if (status !== 0) return;

  // Reassemble concatenated messages (UDH IEI 0x00, 8-bit reference).
  const ie = udh.map((h) => Buffer.from(h, 'hex')).find((b) => b[0] === 0x00);
  const partNo = ie ? ie[4] : 1;
  if (ie) {
    const key = pdu.source_addr + '|' + pdu.destination_addr + '|' + ie[2];
    const entry = concat.get(key) || { total: ie[3], parts: new Map() };
    entry.parts.set(ie[4], text);
    concat.set(key, entry);
    if (entry.parts.size === entry.total) {
      concat.delete(key);
      const whole = [...entry.parts.keys()].sort((a, b) => a - b).map((k) => entry.parts.get(k)).join('');
      if (!cfg.quiet) emit({ event: 'message', dest: pdu.destination_addr, parts: entry.total, text: whole });
    }
  } else if (!cfg.quiet) {
    emit({ event: 'message', dest: pdu.destination_addr, parts: 1, text });
  }

  const wanted = !(cfg.receipt_first_part_only && partNo > 1);
  if (pdu.registered_delivery & 0x01 && cfg.receipt_mode !== 'none' && wanted) {
    let stat = cfg.receipt_stat_for[pdu.destination_addr] || cfg.receipt_stat;
    if (ie && cfg.receipt_fail_part === partNo) stat = 'UNDELIV';
    const r = {
      id, dest: pdu.destination_addr, src: pdu.source_addr, text, submitted: new Date(),
      stat, mode: cfg.receipt_mode,
    };
    setTimeout(() => sendReceipt(r), cfg.receipt_delay_ms);
  }
}

const server = smpp.createServer((session) => {
  sessions.add(session);
  session.on('bind_transceiver', (pdu) => {
    if (cfg.password !== null && pdu.password !== cfg.password) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      emit({ event: 'bind_refused', system_id: pdu.system_id });
      session.close();
      return;
    }
    counters.binds++;
    session.bound = true;
    session.system_id = pdu.system_id;
    session.send(pdu.response());
    emit({ event: 'bind', system_id: pdu.system_id, password: pdu.password });
    flushPendingReceipts();
  });
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
  session.on('enquire_link', (pdu) => {
    if (cfg.silent) {
      emit({ event: 'enquire_link_ignored' });
      return;
    }
    session.send(pdu.response());
    emit({ event: 'enquire_link' });
  });
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    emit({ event: 'unbind' });
    session.close();
  });
  session.on('close', () => {
    sessions.delete(session);
    emit({ event: 'close' });
  });
  session.on('error', () => {}); // a cut connection; 'close' follows
});

function listen() {
  server.listen(port, '127.0.0.1', () => {
    port = server.address().port;
    emit({ event: 'listening', port });
  });
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  switch (msg.cmd) {
    case 'set':
      for (const [k, v] of Object.entries(msg)) if (k !== 'cmd') cfg[k] = v;
      if ('drop_after' in msg) submitsSinceDrop = 0;
      emit({ event: 'set' });
      break;
    case 'drop':
      for (const s of sessions) s.destroy();
      emit({ event: 'dropped' });
      break;
    case 'down':
      server.close(() => emit({ event: 'down' }));
      for (const s of sessions) s.destroy();
      break;
    case 'up':
      listen();
      break;
    case 'unbind':
      for (const s of sessions) if (s.bound) s.unbind();
      emit({ event: 'unbinding' });
      break;
    case 'stats':
      emit({ event: 'stats', ...counters, pending_receipts: pendingReceipts.length });
      break;
    default:
      emit({ event: 'error', message: 'unknown command ' + msg.cmd });
  }
}).on('close', () => process.exit(0));

listen();
