/**
 * Alerte Message – reception of the public site's forms (Google Apps Script web app).
 *
 * Bound to the register spreadsheet. The site's two forms post here:
 *   <URL /exec>?formulaire=inscription     -> one row appended to the "Inscriptions" tab
 *   <URL /exec>?formulaire=desinscription  -> one row appended to the "Desinscriptions" tab
 * (a hidden field "formulaire" in the body works too: Apps Script merges both in e.parameter).
 *
 * Validation mirrors the Python intake (sender/intake): required fields, consent, mobile
 * number, commune among the 152 communes of Lozère, length limits. A filled honeypot field
 * ("site_web") gets the normal confirmation but nothing is stored.
 * Every row is written under the script lock; columns are found by their header name.
 *
 * Deployment: see README.md in this folder.
 */

// ---- Settings to adapt ---------------------------------------------------------------------

/** Public address of the site, without a trailing slash (same as ALERTE_SITE_URL). */
var SITE_URL = 'https://alerte-message.cma-lozere.fr';

/** Version of the consent text shown on the form; written in the "consentement" column. */
var CONSENT_VERSION = 'v1';

var TIMEZONE = 'Europe/Paris';
var LOCK_WAIT_MS = 20000;

// ---- Register layout (DESIGN.md §4) ----------------------------------------------------------

var TABS = {
  inscription: {
    name: 'Inscriptions',
    headers: ['id', 'horodatage', 'source', 'nom', 'entreprise', 'activite', 'commune',
      'telephone', 'consentement', 'statut', 'numero', 'code_insee', 'zone', 'remarque'],
    written: ['id', 'horodatage', 'source', 'nom', 'entreprise', 'activite', 'commune',
      'telephone', 'consentement'],
    thanks: '/merci-inscription/',
    form: '/inscription/'
  },
  desinscription: {
    name: 'Desinscriptions',
    headers: ['horodatage', 'telephone', 'source', 'traite'],
    written: ['horodatage', 'telephone', 'source', 'traite'],
    thanks: '/merci-desinscription/',
    form: '/desinscription/'
  }
};

/** Maximum lengths: sender/intake/validation.py MAX_LENGTHS (also the form's maxlength). */
var LIMITS = { nom: 120, entreprise: 150, commune: 120, telephone: 40 };

/** French messages, as in sender/intake/validation.py MESSAGES. */
var MESSAGES = {
  nom: 'Indiquez votre nom et votre prénom.',
  entreprise: 'Indiquez le nom de votre entreprise.',
  activite: 'Choisissez votre activité dans la liste.',
  commune: 'Choisissez votre commune dans la liste des communes de Lozère.',
  telephone: 'Indiquez votre numéro de téléphone mobile.',
  telephone_desinscription: 'Indiquez le numéro de mobile qui reçoit les alertes.',
  consentement: 'Cochez la case pour accepter que la CMA de la Lozère conserve ces ' +
    'informations et vous envoie les alertes.'
};

/** Trades offered by the form (sender/schema.py ACTIVITES). */
var ACTIVITES = [
  "Alimentation (boulangerie, boucherie, épicerie…)",
  "Café, hôtel, restaurant",
  "Coiffure, esthétique",
  "Bâtiment",
  "Automobile, motocycle",
  "Commerce de détail",
  "Bijouterie, horlogerie",
  "Pharmacie, optique, santé",
  "Tabac, presse",
  "Services",
  "Fabrication, artisanat d'art",
  "Autre"
];

/** The 152 current communes of Lozère (sender/data/communes-lozere.json). */
var COMMUNES = [
  "Albaret-le-Comtal", "Albaret-Sainte-Marie", "Allenc", "Altier", "Antrenas", "Arzenc-d'Apcher",
  "Arzenc-de-Randon", "Auroux", "Badaroux", "Balsièges", "Banassac-Canilhac", "Barjac",
  "Barre-des-Cévennes", "Bassurels", "Bédouès-Cocurès", "Bel-Air-Val-d'Ance", "Blavignac",
  "Bourgs sur Colagne", "Brenoux", "Brion", "Cans et Cévennes", "Cassagnas", "Chadenet",
  "Chanac", "Chastanier", "Chastel-Nouvel", "Châteauneuf-de-Randon", "Chauchailles",
  "Chaudeyrac", "Chaulhac", "Cheylard-l'Évêque", "Cubières", "Cubiérettes", "Cultures",
  "Esclanèdes", "Florac Trois Rivières", "Fontans", "Fournels", "Fraissinet-de-Fourques",
  "Gabriac", "Gabrias", "Gatuzières", "Gorges du Tarn Causses", "Grandrieu", "Grandvals",
  "Grèzes", "Hures-la-Parade", "Ispagnac", "Julianges", "La Bastide-Puylaurent", "La Canourgue",
  "La Fage-Montivernoux", "La Fage-Saint-Julien", "La Malène", "La Panouse", "La Tieule",
  "Lachamp-Ribennes", "Lajo", "Langogne", "Lanuéjols", "Laubert", "Laval-du-Tarn", "Le Born",
  "Le Buisson", "Le Collet-de-Dèze", "Le Malzieu-Forain", "Le Malzieu-Ville", "Le Pompidou",
  "Le Rozier", "Les Bessons", "Les Bondons", "Les Hermaux", "Les Laubies", "Les Monts-Verts",
  "Les Salces", "Les Salelles", "Luc", "Marchastel", "Marvejols", "Mas-Saint-Chély",
  "Massegros Causses Gorges", "Mende", "Meyrueis", "Moissac-Vallée-Française", "Molezon",
  "Mont Lozère et Goulet", "Montbel", "Montrodat", "Monts-de-Randon", "Nasbinals",
  "Naussac-Fontanes", "Noalhac", "Palhers", "Paulhac-en-Margeride", "Pelouse", "Peyre en Aubrac",
  "Pied-de-Borne", "Pierrefiche", "Pont de Montvert - Sud Mont Lozère", "Pourcharesses",
  "Prévenchères", "Prinsuéjols-Malbouzon", "Prunières", "Recoules-d'Aubrac", "Recoules-de-Fumas",
  "Rimeize", "Rocles", "Rousses", "Saint-Alban-sur-Limagnole", "Saint-André-Capcèze",
  "Saint-André-de-Lancize", "Saint-Bauzile", "Saint-Bonnet-de-Chirac", "Saint Bonnet-Laval",
  "Saint-Chély-d'Apcher", "Saint-Denis-en-Margeride", "Saint-Étienne-du-Valdonnez",
  "Saint-Étienne-Vallée-Française", "Saint-Flour-de-Mercoire", "Saint-Frézal-d'Albuges",
  "Saint-Gal", "Saint-Germain-de-Calberte", "Saint-Germain-du-Teil", "Saint-Hilaire-de-Lavit",
  "Saint-Jean-la-Fouillouse", "Saint-Juéry", "Saint-Julien-des-Points", "Saint-Laurent-de-Muret",
  "Saint-Laurent-de-Veyrès", "Saint-Léger-de-Peyre", "Saint-Léger-du-Malzieu",
  "Saint-Martin-de-Boubaux", "Saint-Martin-de-Lansuscle", "Saint-Michel-de-Dèze",
  "Saint-Paul-le-Froid", "Saint-Pierre-de-Nogaret", "Saint-Pierre-des-Tripiers",
  "Saint-Pierre-le-Vieux", "Saint-Privat-de-Vallongue", "Saint-Privat-du-Fau", "Saint-Saturnin",
  "Saint-Sauveur-de-Ginestoux", "Sainte-Croix-Vallée-Française", "Sainte-Eulalie",
  "Sainte-Hélène", "Serverette", "Termes", "Trélans", "Vebron", "Ventalon en Cévennes", "Vialas",
  "Villefort"
];

// ---- Entry points ----------------------------------------------------------------------------

/** A visit of the /exec address in a browser: explain and send people to the site. */
function doGet() {
  return page_('Alerte Message',
    '<h1>Alerte Message</h1><p>Cette adresse reçoit les formulaires du site.</p>' +
    '<p><a href="' + escape_(SITE_URL + '/') + '">Aller sur le site Alerte Message</a></p>');
}

/** Receives one form. Always answers with an HTML page (confirmation or French errors). */
function doPost(e) {
  var p = (e && e.parameter) || {};
  var kind = String(p.formulaire || '').trim();
  if (!TABS.hasOwnProperty(kind)) {
    return errorPage_('inscription', ['Formulaire inconnu : revenez sur le site et réessayez.']);
  }
  // Honeypot: people never see this field; robots fill it. Pretend success, store nothing.
  if (clean_(p.site_web) !== '') {
    return redirect_(kind);
  }
  var checked = kind === 'inscription' ? checkSignup_(p) : checkUnsubscribe_(p);
  if (checked.errors.length) {
    return errorPage_(kind, checked.errors);
  }
  var lock = LockService.getScriptLock();
  try {
    lock.waitLock(LOCK_WAIT_MS);
  } catch (err) {
    return errorPage_(kind, ['Le service est très sollicité. Rien n’a été enregistré : ' +
      'réessayez dans une minute.']);
  }
  try {
    var now = new Date();
    var stamp = Utilities.formatDate(now, TIMEZONE, "yyyy-MM-dd'T'HH:mm:ssXXX");
    var sheet = sheet_(kind);
    var record = checked.values;
    record.horodatage = stamp;
    record.source = 'formulaire';
    if (kind === 'inscription') {
      record.id = nextId_(sheet); // read under the lock: two posts never get the same id
      record.consentement = CONSENT_VERSION + ' ' + stamp;
    } else {
      record.traite = '';
    }
    appendByHeaders_(sheet, TABS[kind].written, record);
    SpreadsheetApp.flush();
  } catch (err) {
    console.error('Alerte Message: ' + kind + ' not stored: ' + err); // no personal data logged
    return errorPage_(kind, ['Une erreur technique a empêché l’enregistrement. ' +
      'Réessayez plus tard ou contactez la CMA de la Lozère.']);
  } finally {
    lock.releaseLock();
  }
  return redirect_(kind);
}

// ---- Validation (same rules and messages as the Python intake) -------------------------------

function checkSignup_(p) {
  var errors = [];
  var values = {};
  values.nom = textField_(p, 'nom', 'Nom et prénom', MESSAGES.nom, 'Le nom', errors);
  values.entreprise = textField_(p, 'entreprise', 'Entreprise', MESSAGES.entreprise,
    'Le nom de l’entreprise', errors);
  values.activite = clean_(p.activite);
  if (ACTIVITES.indexOf(values.activite) < 0) errors.push('Activité : ' + MESSAGES.activite);
  var typed = textField_(p, 'commune', 'Commune', MESSAGES.commune, 'Le nom de la commune',
    errors);
  if (typed && typed.length <= LIMITS.commune) {
    values.commune = communeLozere_(typed);
    if (!values.commune) {
      errors.push('Commune : nous ne trouvons pas « ' + typed + ' » parmi les communes de ' +
        'Lozère. ' + MESSAGES.commune);
    }
  }
  values.telephone = textField_(p, 'telephone', 'Téléphone', MESSAGES.telephone, 'Le numéro',
    errors);
  if (values.telephone && values.telephone.length <= LIMITS.telephone &&
      !isMobile_(values.telephone)) {
    errors.push('Téléphone : ce numéro n’est pas un numéro de mobile valide. ' +
      'Indiquez un numéro de mobile, par exemple 06 12 34 56 78.');
  }
  if (clean_(p.consentement) !== 'oui') errors.push('Accord : ' + MESSAGES.consentement);
  return { values: values, errors: errors };
}

/** Any number that exists is accepted: whether it was registered is decided by the sender. */
function checkUnsubscribe_(p) {
  var errors = [];
  var phone = textField_(p, 'telephone', 'Téléphone', MESSAGES.telephone_desinscription,
    'Le numéro', errors);
  if (phone && phone.length <= LIMITS.telephone && !isPhone_(phone)) {
    errors.push('Téléphone : ce numéro n’est pas valide. Indiquez le numéro de mobile inscrit, ' +
      'par exemple 06 12 34 56 78.');
  }
  return { values: { telephone: phone }, errors: errors };
}

/** A required one-line field: cleaned, with the intake's "missing" and "too long" messages. */
function textField_(p, name, label, missing, subject, errors) {
  var text = clean_(p[name]);
  if (!text) {
    errors.push(label + ' : ' + missing);
  } else if (text.length > LIMITS[name]) {
    errors.push(label + ' : ' + subject + ' est trop long : ' + LIMITS[name] +
      ' caractères au maximum.');
  }
  return text;
}

/** Digits and a leading + only: "06 12-34.56 78", "+33 (0)6…", "0033 6…" -> "+33612…". */
function compactPhone_(phone) {
  return phone.replace(/\(0\)/g, '').replace(/[\s.\-\/()\u00a0\u202f]/g, '').replace(/^00/, '+');
}

/** French mobile (06, 07, +33 6, +33 7) or a foreign number written with its + prefix. */
function isMobile_(phone) {
  var compact = compactPhone_(phone);
  return /^(?:0|\+33)[67]\d{8}$/.test(compact) || /^\+(?!33)[1-9]\d{7,14}$/.test(compact);
}

/** Any French number (landlines too) or a foreign number written with its + prefix. */
function isPhone_(phone) {
  var compact = compactPhone_(phone);
  return /^(?:0|\+33)[1-9]\d{8}$/.test(compact) || /^\+(?!33)[1-9]\d{7,14}$/.test(compact);
}

// ---- Communes --------------------------------------------------------------------------------

/** Lenient comparison key: no accents, no case, no hyphens, "St" -> "saint", no postcode. */
function communeKey_(name) {
  var abbreviations = { st: 'saint', ste: 'sainte', s: 'saint' };
  var text = String(name || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/œ/g, 'oe').replace(/æ/g, 'ae');
  return text.split(/[\s\-'’_.,\/()]+/)
    .filter(function (word) { return word && !/^\d+$/.test(word); })
    .map(function (word) { return abbreviations[word] || word; })
    .join(' ');
}

var COMMUNE_INDEX_ = null;

/** The official name of the commune typed by the person, or '' when it is not in Lozère. */
function communeLozere_(typed) {
  if (!COMMUNE_INDEX_) {
    COMMUNE_INDEX_ = {};
    COMMUNES.forEach(function (name) { COMMUNE_INDEX_[communeKey_(name)] = name; });
  }
  var key = communeKey_(typed);
  if (!key) return '';
  if (COMMUNE_INDEX_[key]) return COMMUNE_INDEX_[key];
  // "Florac" for "Florac Trois Rivières": a prefix that names one commune only.
  var found = Object.keys(COMMUNE_INDEX_).filter(function (k) {
    return k.indexOf(key + ' ') === 0;
  });
  return found.length === 1 ? COMMUNE_INDEX_[found[0]] : '';
}

// ---- Spreadsheet -----------------------------------------------------------------------------

/** The tab for this form; created with its headers if it does not exist yet. */
function sheet_(kind) {
  var spec = TABS[kind];
  var book = SpreadsheetApp.getActiveSpreadsheet();
  var sheet = book.getSheetByName(spec.name);
  if (!sheet) {
    sheet = book.insertSheet(spec.name);
    sheet.getRange(1, 1, 1, spec.headers.length).setValues([spec.headers]);
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
      var n = Number(String(row[0]).replace(/^'/, ''));
      if (isFinite(n) && n > max) max = n;
    });
  }
  return Math.floor(max) + 1;
}

/** Appends one row, putting each value under the column whose header has its name. */
function appendByHeaders_(sheet, names, record) {
  var headers = headers_(sheet);
  names.forEach(function (name) {
    if (headers.indexOf(name) < 0) {
      throw new Error('column "' + name + '" missing in ' + sheet.getName());
    }
  });
  var row = headers.map(function (header) {
    if (!record.hasOwnProperty(header)) return '';
    var value = record[header];
    if (typeof value === 'number') return value;
    // Leading apostrophe: Sheets keeps the cell as plain text (phones keep their 0, dates and
    // numbers are not reinterpreted) and does not show it. Formula text has already been given
    // its own visible apostrophe by neutralise_().
    return value === '' ? '' : "'" + neutralise_(String(value));
  });
  sheet.appendRow(row);
}

// ---- Text helpers ----------------------------------------------------------------------------

/** Trimmed text without control characters (the form has single-line fields only). */
function clean_(value) {
  return String(value === undefined || value === null ? '' : value)
    .replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** OWASP formula injection: text starting with = + - @ tab or CR gets a leading apostrophe. */
function neutralise_(text) {
  if (/^[=+\-@\t\r]/.test(text) && !/^[+\-]?\d[\d\s.,()\/]*$/.test(text)) {
    return "'" + text;
  }
  return text;
}

function escape_(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// ---- Answers ---------------------------------------------------------------------------------

/** Minimal page; links open in the whole window (Apps Script shows its output in a frame). */
function page_(title, body, refreshTo) {
  var html = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">' +
    '<base target="_top">' +
    (refreshTo ? '<meta http-equiv="refresh" content="0; url=' + escape_(refreshTo) + '">' : '') +
    '<title>' + escape_(title) + '</title></head><body style="font-family:system-ui,sans-serif;' +
    'max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5">' + body + '</body></html>';
  return HtmlService.createHtmlOutput(html)
    .setTitle(title)
    .addMetaTag('viewport', 'width=device-width, initial-scale=1');
}

/** Confirmation: send the person to the site's thank-you page (meta refresh + link). */
function redirect_(kind) {
  var url = SITE_URL + TABS[kind].thanks;
  return page_('Demande enregistrée – Alerte Message',
    '<h1>Votre demande est bien reçue</h1>' +
    '<p><a href="' + escape_(url) + '">Continuer vers le site Alerte Message</a></p>', url);
}

/** Refusal: list the French messages and offer the way back to the form. */
function errorPage_(kind, errors) {
  var url = SITE_URL + TABS[kind].form;
  var items = errors.map(function (message) { return '<li>' + escape_(message) + '</li>'; });
  return page_('Formulaire à corriger – Alerte Message',
    '<h1>Votre demande n’est pas encore enregistrée</h1>' +
    '<p>Merci de corriger ' + (errors.length > 1 ? 'ces points' : 'ce point') + ' :</p>' +
    '<ul>' + items.join('') + '</ul>' +
    '<p><a href="' + escape_(url) + '">Revenir au formulaire</a></p>' +
    '<p>Les informations saisies n’ont pas été conservées : merci de les indiquer à nouveau.</p>');
}
