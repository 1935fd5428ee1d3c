/**
 * Alerte Message – reception of the public site's forms (Google Apps Script web app).
 *
 * The same intake as the Python server (sender/intake): the same validation, the same French
 * messages, the same stored rows. Its logic is a port of sender/intake/validation.py,
 * sender/domain/phones.py (and the part of the phonenumbers library it uses) and
 * sender/domain/communes.py; every list, message and numbering plan comes from generated.gs,
 * which `alerte-message script-google` writes from the Python side (never edit it by hand).
 * `make test` runs this file under Node with fakes of SpreadsheetApp, LockService, HtmlService
 * and Utilities against the same table of sign-ups as the Python intake.
 *
 * The site's two forms post here:
 *   <URL /exec>?formulaire=inscription     -> one row appended to the "Inscriptions" tab
 *   <URL /exec>?formulaire=desinscription  -> one row appended to the "Desinscriptions" tab
 * A filled honeypot field ("site_web") gets the normal answer but nothing is stored. Rows are
 * written under the script lock; columns are found by their header. A sign-up starts
 * « en attente »: the sender (alerte-message) sends the number a confirmation message, and only a
 * confirmed sign-up receives alerts; an unsubscription request is confirmed the same way.
 *
 * Apps Script cannot see request headers, so it cannot refuse posts made from another site as
 * the Python server does: the confirmation by the phone itself is what protects members.
 *
 * Deployment: see README.md in this folder (a standalone script is recommended: its answer can
 * send the visitor back to the site, out of Google's frame).
 */

// ---- Settings to adapt ---------------------------------------------------------------------

/** Public address of the site, without a trailing slash (same as ALERTE_SITE_URL). */
var SITE_URL = 'https://alerte-message.cma-lozere.fr';

/**
 * Standalone deployment: the register's spreadsheet id (in its address, between /d/ and /edit).
 * Leave empty for a script bound to the spreadsheet (Extensions > Apps Script).
 */
var SPREADSHEET_ID = '';

var TIMEZONE = 'Europe/Paris';
var LOCK_WAIT_MS = 20000;

var PAGES = {
  inscription: { form: '/inscription/', thanks: '/merci-inscription/' },
  desinscription: { form: '/desinscription/', thanks: '/merci-desinscription/' }
};

var NBSP = '\u00a0';
var NNBSP = '\u202f';

// ---- Entry points ----------------------------------------------------------------------------

/** A visit of the /exec address in a browser: explain and send people to the site. */
function doGet() {
  return page_('Alerte Message',
    '<h1>Alerte Message</h1><p>Cette adresse reçoit les formulaires du site.</p>' +
    '<p><a href="' + escape_(SITE_URL + '/') + '" target="_top">Aller sur le site Alerte ' +
    'Message</a></p>');
}

/** Receives one form. Always answers with an HTML page (thanks or French errors). */
function doPost(e) {
  var p = (e && e.parameter) || {};
  var kind = String(p.formulaire || '').trim();
  if (!PAGES.hasOwnProperty(kind)) {
    return errorPage_('inscription', ['Formulaire inconnu : revenez sur le site et réessayez.']);
  }
  var outcome = intake_(kind, p, new Date());
  if (outcome.isSpam) {
    return thanksPage_(kind); // a robot filled the hidden field: pretend, store nothing
  }
  if (!outcome.row) {
    return errorPage_(kind, Object.keys(outcome.errors).map(function (k) {
      return outcome.errors[k];
    }));
  }
  var lock = LockService.getScriptLock();
  try {
    lock.waitLock(LOCK_WAIT_MS);
  } catch (err) {
    return errorPage_(kind, ['Le service est très sollicité. Rien n’a été enregistré : ' +
      'réessayez dans une minute.']);
  }
  try {
    store_(kind, outcome.row);
    SpreadsheetApp.flush();
  } catch (err) {
    console.error('Alerte Message: ' + kind + ' not stored: ' + err); // no personal data logged
    return errorPage_(kind, ['Une erreur technique a empêché l’enregistrement. ' +
      'Réessayez plus tard ou contactez la CMA de la Lozère.']);
  } finally {
    lock.releaseLock();
  }
  return thanksPage_(kind, reverseCode_(kind, p, outcome.row));
}

/** Validation of one post: { values, errors, row, isSpam } as validation.py's FormOutcome. */
function intake_(kind, p, moment) {
  return kind === 'inscription' ? validateSignup_(p, moment) : validateUnsubscribe_(p, moment);
}

// ---- Validation (port of sender/intake/validation.py) --------------------------------------

function first_(p, name) {
  var value = p[name];
  if (Array.isArray(value)) return value.length ? value[0] : '';
  return value === undefined ? '' : value;
}

function length_(text) {
  return Array.from(text).length; // code points, as Python's len()
}

function format_(template, values) {
  return template.replace(/\{(\w+)\}/g, function (all, name) { return String(values[name]); });
}

function textField_(p, name, values, errors) {
  var text = cleanText_(first_(p, name));
  values[name] = text;
  var limit = GENERATED.maxLengths[name];
  if (!text) {
    errors[name] = GENERATED.messages[name];
  } else if (length_(text) > limit) {
    errors[name] = format_(GENERATED.tooLong, { label: GENERATED.labels[name], limit: limit });
  }
  return text;
}

function isSpam_(p) {
  return cleanText_(first_(p, GENERATED.honeypot)) !== '';
}

function phoneError_(numero, remarque, hint) {
  var detail = remarque.split(' : ').join(NNBSP + '; ').replace(/\.+$/, '');
  return format_(GENERATED.phoneError, {
    start: GENERATED.phoneStarts[numero !== null ? 'not_mobile' : 'invalid'],
    detail: detail,
    hint: GENERATED.phoneHints[hint],
    example: GENERATED.example
  });
}

function validateSignup_(p, moment) {
  var values = {};
  var errors = {};
  var nom = textField_(p, 'nom', values, errors);
  var entreprise = textField_(p, 'entreprise', values, errors);
  var activite = cleanText_(first_(p, 'activite'));
  values.activite = activite;
  if (GENERATED.activites.indexOf(activite) < 0) errors.activite = GENERATED.messages.activite;
  var typed = textField_(p, 'commune', values, errors);
  var communeName = '';
  if (!errors.hasOwnProperty('commune')) {
    var commune = matchCommune_(typed);
    if (commune === null) {
      errors.commune = format_(GENERATED.unknownCommune,
        { commune: typed, hint: GENERATED.messages.commune });
    } else {
      communeName = commune;
      values.commune = commune;
    }
  }
  var telephone = textField_(p, 'telephone', values, errors);
  if (!errors.hasOwnProperty('telephone')) {
    var phone = cleanPhone_(telephone);
    if (!phone.ok) {
      errors.telephone = phoneError_(phone.numero, phone.remarque, 'signup');
    } else if (!allowedCountry_(phone.numero)) {
      errors.telephone = GENERATED.foreignPhone;
    }
  }
  var consent = cleanText_(first_(p, 'consentement'));
  values.consentement = consent === 'oui' ? 'oui' : '';
  if (consent !== 'oui') errors.consentement = GENERATED.messages.consentement;
  if (isSpam_(p)) return { values: values, errors: {}, row: null, isSpam: true };
  if (Object.keys(errors).length) return { values: values, errors: errors, row: null };
  var stamp = formatIso_(moment);
  return {
    values: values,
    errors: {},
    row: {
      horodatage: stamp,
      source: GENERATED.source,
      nom: neutralise_(nom),
      entreprise: neutralise_(entreprise),
      activite: neutralise_(activite),
      commune: neutralise_(communeName),
      telephone: neutralise_(telephone),
      consentement: GENERATED.consentVersion + ' ' + stamp
    }
  };
}

/** Any number that exists is accepted: whether it was registered is decided by the sender. */
function validateUnsubscribe_(p, moment) {
  var values = {};
  var errors = {};
  var telephone = cleanText_(first_(p, 'telephone'));
  values.telephone = telephone;
  var limit = GENERATED.maxLengths.telephone;
  if (!telephone) {
    errors.telephone = GENERATED.messages.telephone_desinscription;
  } else if (length_(telephone) > limit) {
    errors.telephone = format_(GENERATED.tooLong,
      { label: GENERATED.labels.telephone, limit: limit });
  } else {
    var phone = cleanPhone_(telephone);
    if (phone.numero === null) errors.telephone = phoneError_(null, phone.remarque, 'unsubscribe');
  }
  if (isSpam_(p)) return { values: values, errors: {}, row: null, isSpam: true };
  if (Object.keys(errors).length) return { values: values, errors: errors, row: null };
  return {
    values: values,
    errors: {},
    row: {
      horodatage: formatIso_(moment),
      telephone: neutralise_(telephone),
      source: GENERATED.source,
      traite: ''
    }
  };
}

/** `2026-03-29T03:30:00+02:00` in Europe/Paris, as dates.format_iso. */
function formatIso_(moment) {
  return Utilities.formatDate(moment, TIMEZONE, "yyyy-MM-dd'T'HH:mm:ssXXX");
}

// ---- Text (port of sender/intake/validation.clean_text and sender/text.neutralise) ----------

var U_ = GENERATED.unicode;
var INVISIBLE_ = new RegExp(U_.invisible, 'u');
var PY_SPACE_RUN_ = new RegExp(U_.pythonSpace + '+', 'gu');
var PY_STRIP_ = new RegExp('^' + U_.pythonSpace + '+|' + U_.pythonSpace + '+$', 'gu');
var CONTROL_ = /[\p{Cc}\p{Cs}\p{Co}]/u;
var LINE_SEPARATOR_ = /[\p{Zl}\p{Zp}]/u;
var COMBINING_ = new RegExp(U_.combining, 'gu');

function pyStrip_(text) {
  return text.replace(PY_STRIP_, '');
}

/** One line of text as a person meant it: NFC, no control or invisible characters. */
function cleanText_(value) {
  var text = value === undefined || value === null ? '' : String(value);
  var kept = '';
  Array.from(text.normalize('NFC')).forEach(function (ch) {
    if (INVISIBLE_.test(ch)) return;
    if (CONTROL_.test(ch)) {
      kept += '\t\n\r\u000b\u000c\u0085'.indexOf(ch) >= 0 ? ' ' : '';
    } else if (LINE_SEPARATOR_.test(ch)) {
      kept += ' ';
    } else {
      kept += ch;
    }
  });
  return pyStrip_(kept.replace(PY_SPACE_RUN_, ' '));
}

var PLAIN_NUMBER_ = new RegExp('^[+-]?\\p{Nd}[\\p{Nd}' + U_.pythonSpace.slice(1, -1) +
  '.,()/]*$', 'u');

/** Safe to store in a cell: control characters removed, formula start quoted (text.py). */
function neutralise_(text) {
  if (!text) return '';
  var cleaned = Array.from(text).filter(function (ch) {
    return '\t\r\n'.indexOf(ch) >= 0 || (ch >= ' ' && ch !== '\u007f');
  }).slice(0, 5000).join('');
  if (/^[=+\-@\t\r]/.test(cleaned) && !PLAIN_NUMBER_.test(cleaned)) return "'" + cleaned;
  return cleaned;
}

function escape_(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// ---- Communes (port of sender/domain/communes.py) -----------------------------------------

/** Comparison key: no accents, no case, punctuation and spaces collapsed (text.fold). */
function fold_(text) {
  var bare = text.normalize('NFKD').replace(COMBINING_, '').toLowerCase()
    .replace(/œ/g, 'oe').replace(/æ/g, 'ae');
  return bare.replace(/[^a-z0-9]+/g, ' ').trim();
}

function normaliseName_(name) {
  return fold_(name || '').split(' ').filter(function (w) { return w; }).map(function (w) {
    return GENERATED.abbreviations.hasOwnProperty(w) ? GENERATED.abbreviations[w] : w;
  }).join(' ');
}

/** The current commune for a typed name (former and delegated names too), or null. */
function matchCommune_(name) {
  var index = GENERATED.communes;
  var key = normaliseName_(name);
  if (!key) return null;
  if (index.hasOwnProperty(key)) return index[key];
  var withoutNumbers = key.split(' ').filter(function (w) { return !/^[0-9]+$/.test(w); })
    .join(' ');
  if (withoutNumbers !== key) {
    if (index.hasOwnProperty(withoutNumbers)) return index[withoutNumbers];
    if (!withoutNumbers) return null;
    key = withoutNumbers;
  }
  var found = {};
  Object.keys(index).forEach(function (k) {
    if (k.indexOf(key + ' ') === 0) found[index[k]] = true;
  });
  var names = Object.keys(found);
  return names.length === 1 ? names[0] : null;
}

// ---- Phones (port of sender/domain/phones.py and of phonenumbers' parse) ------------------

var PH_ = GENERATED.phone;
var PP_ = PH_.patterns;
var RE_ = {
  prefix: new RegExp(PP_.prefix, 'iu'),
  annotation: new RegExp(PP_.annotation, 'gu'),
  trailingText: new RegExp(PP_.trailingText, 'u'),
  zeroInParens: new RegExp(PP_.zeroInParens, 'gu'),
  simple: new RegExp(PP_.simple, 'u'),
  anyLetter: new RegExp(PP_.anyLetter, 'u'),
  anyDigit: /\p{Nd}/u,
  notDigit: /\P{Nd}/gu,
  validStart: new RegExp(PP_.validStart, 'u'),
  unwantedEnd: new RegExp(PP_.unwantedEnd, 'u'),
  secondNumber: new RegExp(PP_.secondNumber, 'u'),
  validPhone: new RegExp('^(?:' + PP_.validPhone + ')$', 'iu'),
  extension: new RegExp(PP_.extension, 'iu'),
  plus: new RegExp('^' + PP_.plus, 'u'),
  alphaPhone: new RegExp('^(?:' + PP_.alphaPhone + ')$'),
  capturingDigit: /(\p{Nd})/u
};
var UNKNOWN_ = 'UNKNOWN';
var REGEX_CACHE_ = {};

function regex_(source, anchor) {
  var key = anchor + source;
  if (!REGEX_CACHE_.hasOwnProperty(key)) {
    var body = anchor === 'full' ? '^(?:' + source + ')$' : anchor === 'start' ?
      '^(?:' + source + ')' : source;
    REGEX_CACHE_[key] = new RegExp(body, 'u');
  }
  return REGEX_CACHE_[key];
}

function phoneResult_(numero, ok, remarque) {
  return { numero: numero, ok: ok, remarque: remarque || '' };
}

/** The value of a digit character (unicodedata.digit), or -1. */
function digitValue_(ch) {
  var cp = ch.codePointAt(0);
  var runs = U_.digitValues;
  for (var i = 0; i < runs.length; i++) {
    if (cp >= runs[i][0] && cp <= runs[i][1]) return runs[i][2] + (cp - runs[i][0]);
    if (cp < runs[i][0]) break;
  }
  return -1;
}

function normalizeDigitsOnly_(number) {
  return Array.from(number).map(function (ch) {
    var d = digitValue_(ch);
    return d >= 0 ? String(d) : '';
  }).join('');
}

function digitCount_(text) {
  return Array.from(text.replace(RE_.notDigit, '')).length;
}

function stripNoise_(raw) {
  var text = pyStrip_(raw.normalize('NFKC'));
  text = text.replace(RE_.prefix, '');
  text = text.replace(RE_.annotation, ' ');
  text = text.replace(RE_.trailingText, '');
  text = text.replace(RE_.zeroInParens, '');
  return pyStrip_(text);
}

function candidates_(text) {
  var digits = text.replace(RE_.notDigit, '');
  var out = [text];
  if (pyStrip_(text).charAt(0) !== '+' && digits.indexOf('00') !== 0) {
    if (length_(digits) === 9 && '67'.indexOf(digits.charAt(0)) >= 0) {
      out.push('0' + digits);
    } else if (length_(digits) === 11 && digits.indexOf('33') === 0) {
      out.push('+' + digits);
    }
  }
  return out;
}

/** One key for the usual spellings of the same French number (only plain spellings). */
function canonicalKey_(text) {
  if (!RE_.simple.test(text)) return null;
  var plus = text.charAt(0) === '+';
  var digits = text.replace(RE_.zeroInParens, '').replace(RE_.notDigit, '');
  if (plus) return '+' + digits;
  if (digits.indexOf('0033') === 0) return '+33' + digits.slice(4);
  if (digits.indexOf('00') === 0) return '+' + digits.slice(2);
  if (digits.length === 11 && digits.indexOf('33') === 0) return '+' + digits;
  if (digits.length === 9 && '67'.indexOf(digits.charAt(0)) >= 0) return '+33' + digits;
  if (digits.length === 10 && digits.charAt(0) === '0' && digits.charAt(1) !== '0') {
    return '+33' + digits.slice(1);
  }
  return '~' + digits;
}

/** The E.164 number and whether it can get alerts, with a French remark (phones.parse_phone). */
function cleanPhone_(raw) {
  raw = raw || '';
  if (!pyStrip_(raw)) return phoneResult_(null, false, PH_.remarks.missing);
  var text = RE_.simple.test(raw) ? pyStrip_(raw) : stripNoise_(raw);
  var key = canonicalKey_(text);
  if (key !== null) {
    var result = key.indexOf('+33') === 0 ? fromKey_(key) : null;
    return result === null ? parseAndClassify_(text) : result;
  }
  if (!RE_.anyDigit.test(text)) return phoneResult_(null, false, PH_.remarks.no_digit);
  if (RE_.anyLetter.test(text)) return phoneResult_(null, false, PH_.remarks.letters);
  return parseAndClassify_(text);
}

function fromKey_(key) {
  var national = key.slice(3);
  if (national.length !== 9 || national.charAt(0) === '0') return null;
  var number = { cc: 33, nsn: national };
  return classify_(number, numberType_(number), national);
}

function parseAndClassify_(text) {
  var parsed = null;
  var kind = UNKNOWN_;
  candidates_(text).forEach(function (candidate) {
    if (parsed !== null && kind !== UNKNOWN_) return;
    var number;
    try {
      number = parse_(candidate, PH_.defaultRegion);
    } catch (err) {
      if (err && err.phoneParse) return;
      throw err;
    }
    kind = numberType_(number);
    if (parsed === null || kind !== UNKNOWN_) parsed = number;
  });
  if (parsed === null) return phoneResult_(null, false, PH_.remarks.unreadable);
  return classify_(parsed, kind, text);
}

function classify_(number, kind, text) {
  if (kind === UNKNOWN_) {
    var digits = digitCount_(text);
    if (number.cc === 33 && [9, 10, 11, 13].indexOf(digits) < 0) {
      return phoneResult_(null, false, format_(PH_.remarks.length, { digits: digits }));
    }
    return phoneResult_(null, false, PH_.remarks.unknown);
  }
  var e164 = '+' + number.cc + number.nsn;
  if (PH_.accepted.indexOf(kind) >= 0) return phoneResult_(e164, true, '');
  var reason = PH_.typeReasons.hasOwnProperty(kind) ? PH_.typeReasons[kind] :
    PH_.remarks.not_mobile;
  return phoneResult_(e164, false, reason);
}

// -- phonenumbers: parse, region and type ----------------------------------------------------

function ParseError_(type) {
  this.phoneParse = true;
  this.type = type;
}

function metadataFor_(cc, region) {
  if (region === '001') return PH_.regions['001:' + cc] || null;
  return region && PH_.regions.hasOwnProperty(region) ? PH_.regions[region] : null;
}

function mainRegion_(cc) {
  var regions = PH_.countryRegions[String(cc)];
  return regions ? regions[0] : 'ZZ';
}

function matchesNational_(number, desc) {
  return !!(desc && desc[0]) && regex_(desc[0], 'full').test(number);
}

function matchesDesc_(number, desc) {
  if (!desc) return false;
  var lengths = desc[1];
  if (lengths.length && lengths.indexOf(length_(number)) < 0) return false;
  return matchesNational_(number, desc);
}

var TOO_SHORT_ = 'TOO_SHORT';
var TOO_LONG_ = 'TOO_LONG';
var LOCAL_ONLY_ = 'IS_POSSIBLE_LOCAL_ONLY';
var INVALID_LENGTH_ = 'INVALID_LENGTH';

/** phonenumbers' _test_number_length for the unknown type (the general description). */
function testNumberLength_(number, meta) {
  var lengths = meta.general[1];
  var local = meta.general[2];
  var actual = length_(number);
  if (local.indexOf(actual) >= 0) return LOCAL_ONLY_;
  var minimum = lengths[0];
  if (minimum === actual) return 'IS_POSSIBLE';
  if (minimum > actual) return TOO_SHORT_;
  if (lengths[lengths.length - 1] < actual) return TOO_LONG_;
  return lengths.slice(1).indexOf(actual) >= 0 ? 'IS_POSSIBLE' : INVALID_LENGTH_;
}

function stripNationalPrefix_(number, meta) {
  var prefix = meta.npp;
  if (!number.length || !prefix) return number;
  var match = regex_(prefix, 'start').exec(number);
  if (!match) return number;
  var general = [meta.general[0]];
  var viable = matchesNational_(number, general);
  var groups = match.length - 1;
  var rule = meta.npt;
  if (!rule || match[groups] === undefined) {
    if (viable && !matchesNational_(number.slice(match[0].length), general)) return number;
    return number.slice(match[0].length);
  }
  var transformed = number.replace(regex_(prefix, ''), rule);
  if (viable && !matchesNational_(transformed, general)) return number;
  return transformed;
}

function isViable_(number) {
  return length_(number) >= PH_.minNsn && RE_.validPhone.test(number);
}

function extractPossibleNumber_(number) {
  var start = RE_.validStart.exec(number);
  if (!start) return '';
  number = number.slice(start.index);
  var trailing = RE_.unwantedEnd.exec(number);
  if (trailing) number = number.slice(0, trailing.index);
  var second = RE_.secondNumber.exec(number);
  if (second) number = number.slice(0, second.index);
  return number;
}

function stripExtension_(number) {
  var match = RE_.extension.exec(number);
  if (match && isViable_(number.slice(0, match.index))) {
    for (var i = 1; i < match.length; i++) {
      if (match[i] !== undefined) return number.slice(0, match.index);
    }
  }
  return number;
}

function normalize_(number) {
  if (RE_.alphaPhone.test(number)) {
    throw new Error('vanity numbers never reach the parser (letters are refused before)');
  }
  return normalizeDigitsOnly_(number);
}

function extractCountryCode_(number) {
  if (!number.length || number.charAt(0) === '0') return { cc: 0, rest: number };
  for (var i = 1; i <= Math.min(number.length, PH_.maxCountryCode); i++) {
    var code = Number(number.slice(0, i));
    if (PH_.countryRegions.hasOwnProperty(String(code))) {
      return { cc: code, rest: number.slice(i) };
    }
  }
  return { cc: 0, rest: number };
}

function maybeExtractCountryCode_(number, meta) {
  if (!number.length) return { cc: 0, national: '' };
  var full;
  var international = true;
  var plus = RE_.plus.exec(number);
  if (plus) {
    full = normalize_(number.slice(plus[0].length));
  } else {
    full = normalize_(number);
    var idd = regex_(meta.idd, 'start').exec(full);
    international = false;
    if (idd) {
      var next = RE_.capturingDigit.exec(full.slice(idd[0].length));
      if (!(next && normalizeDigitsOnly_(next[1]) === '0')) {
        full = full.slice(idd[0].length);
        international = true;
      }
    }
  }
  if (international) {
    if (full.length <= PH_.minNsn) throw new ParseError_('TOO_SHORT_AFTER_IDD');
    var found = extractCountryCode_(full);
    if (found.cc !== 0) return { cc: found.cc, national: found.rest };
    throw new ParseError_('INVALID_COUNTRY_CODE');
  }
  var own = String(meta.cc);
  if (full.indexOf(own) === 0) {
    var potential = stripNationalPrefix_(full.slice(own.length), meta);
    var general = [meta.general[0]];
    if ((!matchesNational_(full, general) && matchesNational_(potential, general)) ||
        testNumberLength_(full, meta) === TOO_LONG_) {
      return { cc: meta.cc, national: potential };
    }
  }
  return { cc: 0, national: '' };
}

/** phonenumbers.parse(number, region) for what parse_phone gives it (no letters). */
function parse_(number, region) {
  if (length_(number) > PH_.maxInput) throw new ParseError_('TOO_LONG');
  var national = extractPossibleNumber_(number);
  if (!isViable_(national)) throw new ParseError_('NOT_A_NUMBER');
  national = stripExtension_(national);
  var meta = metadataFor_(null, region);
  var extracted;
  try {
    extracted = maybeExtractCountryCode_(national, meta);
  } catch (err) {
    var plus = RE_.plus.exec(national);
    if (!(err && err.type === 'INVALID_COUNTRY_CODE' && plus)) throw err;
    extracted = maybeExtractCountryCode_(national.slice(plus[0].length), meta);
    if (extracted.cc === 0) throw new ParseError_('INVALID_COUNTRY_CODE');
  }
  var cc = extracted.cc;
  var normalized = extracted.national;
  if (cc !== 0) {
    var numberRegion = mainRegion_(cc);
    if (numberRegion !== region) meta = metadataFor_(cc, numberRegion);
  } else {
    normalized += normalize_(national);
    cc = meta.cc;
  }
  if (normalized.length < PH_.minNsn) throw new ParseError_('TOO_SHORT_NSN');
  var potential = stripNationalPrefix_(normalized, meta);
  var validation = testNumberLength_(potential, meta);
  if ([TOO_SHORT_, LOCAL_ONLY_, INVALID_LENGTH_].indexOf(validation) < 0) {
    normalized = potential;
  }
  if (normalized.length < PH_.minNsn) throw new ParseError_('TOO_SHORT_NSN');
  if (normalized.length > PH_.maxNsn) throw new ParseError_('TOO_LONG');
  return { cc: cc, nsn: nationalSignificant_(normalized) };
}

/** phonenumbers keeps leading zeros (Italian style) and the number's digits as a string. */
function nationalSignificant_(normalized) {
  if (normalized.length > 1 && normalized.charAt(0) === '0') {
    var zeros = 1;
    while (zeros < normalized.length - 1 && normalized.charAt(zeros) === '0') zeros++;
    return new Array(zeros + 1).join('0') + withoutLeadingZeros_(normalized.slice(zeros));
  }
  return withoutLeadingZeros_(normalized);
}

/** A digit string as the integer phonenumbers stores (no precision lost on 17 digits). */
function withoutLeadingZeros_(digits) {
  return digits.replace(/^0+(?=.)/, '');
}

function numberTypeFor_(nsn, meta) {
  if (!matchesDesc_(nsn, [meta.general[0], meta.general[1]])) return UNKNOWN_;
  var order = ['premium_rate', 'toll_free', 'shared_cost', 'voip', 'personal_number', 'pager',
    'uan', 'voicemail'];
  for (var i = 0; i < order.length; i++) {
    if (matchesDesc_(nsn, meta.types[order[i]])) return order[i].toUpperCase();
  }
  if (matchesDesc_(nsn, meta.types.fixed_line)) {
    if (meta.same || matchesDesc_(nsn, meta.types.mobile)) return 'FIXED_LINE_OR_MOBILE';
    return 'FIXED_LINE';
  }
  if (!meta.same && matchesDesc_(nsn, meta.types.mobile)) return 'MOBILE';
  return UNKNOWN_;
}

function regionFor_(number) {
  var regions = PH_.countryRegions[String(number.cc)];
  if (!regions) return null;
  if (regions.length === 1) return regions[0];
  for (var i = 0; i < regions.length; i++) {
    var meta = metadataFor_(number.cc, regions[i]);
    if (meta === null) continue;
    if (meta.leading !== null) {
      if (regex_(meta.leading, 'start').test(number.nsn)) return regions[i];
    } else if (numberTypeFor_(number.nsn, meta) !== UNKNOWN_) {
      return regions[i];
    }
  }
  return null;
}

/** Whether an E.164 number was issued in one of GENERATED.countries (ALERTE_PAYS). */
function allowedCountry_(e164) {
  var number;
  try {
    number = parse_(e164, PH_.defaultRegion);
  } catch (err) {
    if (err && err.phoneParse) return false;
    throw err;
  }
  return GENERATED.countries.indexOf(regionFor_(number)) >= 0;
}

function numberType_(number) {
  var meta = metadataFor_(number.cc, regionFor_(number));
  return meta === null ? UNKNOWN_ : numberTypeFor_(number.nsn, meta);
}

// ---- Spreadsheet -----------------------------------------------------------------------------

function book_() {
  return SPREADSHEET_ID ? SpreadsheetApp.openById(SPREADSHEET_ID) :
    SpreadsheetApp.getActiveSpreadsheet();
}

/** The tab for this form; created with its headers if it does not exist yet. */
function sheet_(kind) {
  var name = GENERATED.tabs[kind];
  var headers = GENERATED.columns[kind];
  var book = book_();
  var sheet = book.getSheetByName(name);
  if (!sheet) {
    sheet = book.insertSheet(name);
    sheet.getRange(1, 1, 1, headers.length).setValues([headers]);
    sheet.setFrozenRows(1);
  }
  return sheet;
}

function headers_(sheet) {
  var width = Math.max(sheet.getLastColumn(), 1);
  return sheet.getRange(1, 1, 1, width).getValues()[0].map(function (h) {
    return String(h).trim();
  });
}

/** Next free id: one more than the largest number of the "id" column (call under the lock). */
function nextId_(sheet) {
  var column = headers_(sheet).indexOf('id') + 1;
  if (column < 1) throw new Error('column "id" missing in ' + sheet.getName());
  var last = sheet.getLastRow();
  var max = 0;
  if (last >= 2) {
    sheet.getRange(2, column, last - 1, 1).getValues().forEach(function (row) {
      var text = String(row[0]).replace(/^'/, '').trim();
      var n = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
      if (isFinite(n) && n > max) max = n;
    });
  }
  return max + 1;
}

/** Appends the row of one post (under the lock), each value under the column of its name. */
function store_(kind, row) {
  var sheet = sheet_(kind);
  var record = {};
  Object.keys(row).forEach(function (name) { record[name] = row[name]; });
  if (GENERATED.columns[kind].indexOf('id') >= 0) record.id = nextId_(sheet);
  var headers = headers_(sheet);
  Object.keys(record).forEach(function (name) {
    if (headers.indexOf(name) < 0) {
      throw new Error('column "' + name + '" missing in ' + sheet.getName());
    }
  });
  sheet.appendRow(headers.map(function (header) {
    if (!record.hasOwnProperty(header)) return '';
    var value = record[header];
    if (typeof value === 'number') return value;
    // A leading apostrophe makes Sheets keep the cell as plain text (phones keep their 0, dates
    // and numbers are not reinterpreted) and is not part of the value; formula-like text
    // already carries its own visible apostrophe (neutralise_), as the Python register stores.
    return value === '' ? '' : "'" + value;
  }));
}

// ---- Answers ---------------------------------------------------------------------------------

/**
 * A page of the web app. Google serves it inside a frame of its own; links carry
 * target="_top" so that following them leaves the frame (HTML Service), and a script sends the
 * visitor on to the site when Google allows it (standalone deployment).
 */
function page_(title, body, leaveTo) {
  var script = leaveTo ? '<script>try { window.top.location.replace(' +
    JSON.stringify(leaveTo) + '); } catch (e) {}</script>' : '';
  var html = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">' +
    '<base target="_top"><title>' + escape_(title) + '</title></head>' +
    '<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;' +
    'padding:0 1rem;line-height:1.5">' + body + script + '</body></html>';
  return HtmlService.createHtmlOutput(html)
    .setTitle(title)
    .addMetaTag('viewport', 'width=device-width, initial-scale=1');
}

// ---- Reverse confirmation (port of sender/consent/codes.py) ---------------------------------

/**
 * The settings of the confirmation by WhatsApp, from the script's properties (Project settings >
 * Script properties): WHATSAPP_NUMERO_PUBLIC (the network's number, international) and
 * CLE_CODES_WHATSAPP (printed by `alerte-message script-google --cle-codes`). Null when either
 * is missing: the sender then sends a confirmation message as before.
 */
function reverseSettings_() {
  if (typeof PropertiesService === 'undefined') return null;
  var props = PropertiesService.getScriptProperties();
  var number = String(props.getProperty('WHATSAPP_NUMERO_PUBLIC') || '').replace(/[^0-9]/g, '');
  var key = String(props.getProperty('CLE_CODES_WHATSAPP') || '').trim().toLowerCase();
  if (!number || !/^[0-9a-f]{64}$/.test(key)) return null;
  return { number: number.replace(/^00/, ''), key: key };
}

/** Signed bytes (as Apps Script's Utilities use) of a hexadecimal string. */
function hexBytes_(hex) {
  var out = [];
  for (var i = 0; i < hex.length; i += 2) {
    var b = parseInt(hex.substr(i, 2), 16);
    out.push(b > 127 ? b - 256 : b);
  }
  return out;
}

/** The 6-digit code of a stored request, as request_code: HMAC-SHA256, 8 bytes, mod 10^6. */
function requestCode_(key, kind, numero, horodatage) {
  var seconds = Math.floor(Date.parse(horodatage) / 1000);
  var message = 'code-whatsapp|' + kind + '|' + numero + '|' + seconds;
  var bytes = Array.from(message).map(function (ch) { return ch.charCodeAt(0); });
  var digest = Utilities.computeHmacSha256Signature(bytes, hexBytes_(key));
  var value = 0;
  for (var i = 0; i < 8; i++) value = (value * 256 + (digest[i] & 255)) % 1000000;
  return ('00000' + value).slice(-6);
}

/** { number, text } of the click-to-chat link of a stored request, or null. */
function reverseCode_(kind, p, row) {
  var settings = reverseSettings_();
  if (!settings || !row) return null;
  var phone = cleanPhone_(cleanText_(first_(p, 'telephone')));
  if (!phone.numero || !row.horodatage) return null;
  var code = requestCode_(settings.key, kind, phone.numero, row.horodatage);
  var word = kind === 'inscription' ? 'INSCRIPTION' : 'DESINSCRIPTION';
  return { number: settings.number, text: word + ' ' + code.slice(0, 2) + '-' + code.slice(2) };
}

/** The thank-you page when the person confirms by writing to the network's WhatsApp number. */
function reversePage_(kind, link) {
  var url = 'https://wa.me/' + link.number + '?text=' + encodeURIComponent(link.text);
  var what = kind === 'inscription' ? 'votre inscription' : 'votre désinscription';
  return page_('Dernière étape – Alerte Message',
    '<h1>Dernière étape' + NBSP + ': confirmez ' + what + ' depuis WhatsApp</h1>' +
    '<p>Votre demande est enregistrée. Envoyez depuis le mobile indiqué dans le formulaire le ' +
    'message «' + NBSP + escape_(link.text) + NBSP + '» au numéro WhatsApp du réseau, +' +
    escape_(link.number) + '.</p>' +
    '<p><a href="' + escape_(url) + '" target="_top">Ouvrir WhatsApp avec le message prêt à ' +
    'envoyer</a></p>' +
    '<p>Ce code ne fonctionne que depuis le numéro indiqué et expire avec la demande. ' +
    'Une réponse vous confirme la prise en compte dans WhatsApp.</p>' +
    '<p><a href="' + escape_(SITE_URL + '/') + '" target="_top">Revenir au site Alerte ' +
    'Message</a></p>');
}

/** Stored (or ignored honeypot): on to the site's thank-you page, out of Google's frame. */
function thanksPage_(kind, link) {
  if (link) return reversePage_(kind, link);
  var url = SITE_URL + PAGES[kind].thanks;
  return page_('Demande enregistrée – Alerte Message',
    '<h1>Votre demande est bien reçue</h1>' +
    '<p><a href="' + escape_(url) + '" target="_top">Continuer vers le site Alerte Message</a>' +
    '</p>', url);
}

/** Refusal: list the French messages and offer the way back to the form. */
function errorPage_(kind, errors) {
  var url = SITE_URL + PAGES[kind].form;
  var items = errors.map(function (message) { return '<li>' + escape_(message) + '</li>'; });
  return page_('Formulaire à corriger – Alerte Message',
    '<h1>Votre demande n’est pas encore enregistrée</h1>' +
    '<p>Merci de corriger ' + (errors.length > 1 ? 'ces points' : 'ce point') + ' :</p>' +
    '<ul>' + items.join('') + '</ul>' +
    '<p><a href="' + escape_(url) + '" target="_top">Revenir au formulaire</a></p>' +
    '<p>Les informations saisies n’ont pas été conservées : merci de les indiquer à nouveau.</p>');
}
