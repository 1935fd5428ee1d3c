// Runs apps-script/generated.gs and apps-script/Code.gs under Node, as Apps Script would, with
// fakes of the Google services the script uses (SpreadsheetApp, LockService, HtmlService,
// Utilities, PropertiesService: a case's `properties`), and answers on stdout (JSON) for the cases given on stdin (JSON):
//
//   {"moment": "2026-03-29T01:30:00Z", "cases": [{"kind": "inscription", "form": {...}}, ...],
//    "phones": ["06 12 34 56 78", ...], "communes": ["Sainte-Enimie", ...],
//    "countries": ["+262639123456", ...]}
//
// For each case: the validation outcome (`intake_`), then a real `doPost` against a fresh fake
// spreadsheet: the rows it stored (as Sheets keeps them: a leading apostrophe marks text and is
// not part of the value), the lock calls, and the HTML page answered. `phones` and `communes`
// go through `cleanPhone_` and `matchCommune_` alone, `countries` (E.164 numbers) through
// `allowedCountry_`.
//
// Used by tests/test_apps_script.py; `node support/appsscript/harness.js < cases.json`.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const ROOT = path.resolve(__dirname, '..', '..');

// -- Utilities -------------------------------------------------------------------------------

function formatDate(date, timeZone, pattern) {
  if (pattern !== "yyyy-MM-dd'T'HH:mm:ssXXX") {
    throw new Error('fake Utilities.formatDate: unsupported pattern ' + pattern);
  }
  const parts = {};
  new Intl.DateTimeFormat('en-GB', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date).forEach((p) => { parts[p.type] = p.value; });
  const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute,
    +parts.second);
  const offset = Math.round((local - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = offset === 0 ? 'Z' :
    `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:` +
    `${parts.second}${zone}`;
}

/** Utilities.computeHmacSha256Signature(Byte[], Byte[]): signed bytes, as Apps Script. */
function computeHmacSha256Signature(value, key) {
  if (!Array.isArray(value) || !Array.isArray(key)) {
    throw new Error('fake Utilities.computeHmacSha256Signature: byte arrays only');
  }
  const digest = require('crypto').createHmac('sha256', Buffer.from(key.map((b) => b & 255)))
    .update(Buffer.from(value.map((b) => b & 255))).digest();
  return Array.from(digest).map((b) => (b > 127 ? b - 256 : b));
}

// -- SpreadsheetApp ----------------------------------------------------------------------------

/** A cell as typed in the sheet (appendRow, setValues): user-entered values. */
function entered(value) {
  if (typeof value === 'number') return value;
  const text = String(value);
  if (text.startsWith("'")) return text.slice(1); // the apostrophe forces text, then vanishes
  if (/^[=+\-]/.test(text) || /^\d/.test(text)) {
    throw new Error('fake sheet: a value the script did not mark as text would be ' +
      'reinterpreted by Sheets: ' + JSON.stringify(text));
  }
  return text;
}

class FakeRange {
  constructor(sheet, row, column, rows, columns) {
    Object.assign(this, { sheet, row, column, rows, columns });
  }
  getValues() {
    const out = [];
    for (let r = 0; r < this.rows; r++) {
      const line = this.sheet.rows[this.row - 1 + r] || [];
      const values = [];
      for (let c = 0; c < this.columns; c++) {
        const v = line[this.column - 1 + c];
        values.push(v === undefined ? '' : v);
      }
      out.push(values);
    }
    return out;
  }
  setValues(values) {
    values.forEach((line, r) => {
      const target = this.sheet.rows[this.row - 1 + r] || (this.sheet.rows[this.row - 1 + r] = []);
      line.forEach((v, c) => { target[this.column - 1 + c] = entered(v); });
    });
    return this;
  }
}

class FakeSheet {
  constructor(name, rows) {
    this.name = name;
    this.rows = rows || [];
    this.frozen = 0;
  }
  getName() { return this.name; }
  getLastRow() { return this.rows.length; }
  getLastColumn() { return this.rows.reduce((m, r) => Math.max(m, r.length), 0); }
  getRange(row, column, rows, columns) {
    return new FakeRange(this, row, column, rows || 1, columns || 1);
  }
  appendRow(values) { this.rows.push(values.map(entered)); return this; }
  setFrozenRows(n) { this.frozen = n; return this; }
}

class FakeBook {
  constructor(tabs) {
    this.sheets = {};
    Object.keys(tabs || {}).forEach((name) => { this.sheets[name] = new FakeSheet(name, tabs[name]); });
  }
  getSheetByName(name) { return this.sheets[name] || null; }
  insertSheet(name) { return (this.sheets[name] = new FakeSheet(name)); }
}

// -- the script, in a context of its own per case ----------------------------------------------

const SOURCES = ['generated.gs', 'Code.gs'].map((name) => {
  const file = path.join(ROOT, 'apps-script', name);
  return new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file });
});

function load(moment, book, lockLog, lockFails, properties) {
  const fixed = Date.parse(moment);
  class FixedDate extends Date {
    constructor(...args) {
      if (args.length) super(...args); else super(fixed);
    }
    static now() { return fixed; }
  }
  const context = {
    Date: FixedDate,
    console: { error: (...a) => lockLog.push('console.error ' + a.join(' ')), log() {} },
    Utilities: { formatDate, computeHmacSha256Signature },
    PropertiesService: {
      getScriptProperties: () => ({ getProperty: (name) => (properties || {})[name] || null }),
    },
    SpreadsheetApp: {
      getActiveSpreadsheet: () => book,
      openById: () => book,
      flush: () => lockLog.push('flush'),
    },
    LockService: {
      getScriptLock: () => ({
        waitLock: (ms) => {
          lockLog.push('waitLock ' + ms);
          if (lockFails) throw new Error('Lock timeout');
        },
        releaseLock: () => lockLog.push('releaseLock'),
      }),
    },
    HtmlService: {
      createHtmlOutput: (html) => {
        const output = {
          content: html, title: '', meta: {},
          setTitle(t) { this.title = t; return this; },
          addMetaTag(n, v) { this.meta[n] = v; return this; },
          getContent() { return this.content; },
        };
        return output;
      },
    },
  };
  vm.createContext(context);
  SOURCES.forEach((script) => script.runInContext(context));
  return context;
}

function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const moment = input.moment;
  const out = { cases: [], phones: [], communes: [], doGet: null };
  (input.cases || []).forEach((item) => {
    const book = new FakeBook(item.tabs || {});
    const log = [];
    const script = load(moment, book, log, !!item.lockFails, item.properties);
    const outcome = script.intake_(item.kind, item.form, new script.Date());
    const page = script.doPost({ parameter: Object.assign({ formulaire: item.kind }, item.form) });
    const sheet = book.getSheetByName(script.GENERATED.tabs[item.kind] || '');
    out.cases.push({
      errors: outcome.errors,
      row: outcome.row,
      isSpam: !!outcome.isSpam,
      stored: sheet ? sheet.rows : [],
      frozen: sheet ? sheet.frozen : 0,
      log,
      title: page.title,
      html: page.getContent(),
    });
  });
  const script = load(moment, new FakeBook({}), [], false);
  out.phones = (input.phones || []).map((raw) => script.cleanPhone_(script.cleanText_(raw)));
  out.communes = (input.communes || []).map((name) => script.matchCommune_(name));
  out.countries = (input.countries || []).map((e164) => script.allowedCountry_(e164));
  const home = script.doGet();
  out.doGet = { title: home.title, html: home.getContent() };
  process.stdout.write(JSON.stringify(out));
}

main();
