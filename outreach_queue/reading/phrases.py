"""Out-of-office wording in the seven languages of the SPEC, as regular expressions.

Kept as data, apart from the logic in `rules.py`. Each language has:
- `statement`: the sender saying they are away now or will be ("I am out of the office", "ich bin bis
  ... nicht im Büro"), in the present or future tense only: "I was away last week" is a person.
- `marker`: what autoresponders add around that statement ("for urgent matters", "on my return",
  "will not be forwarded"). A statement alone is how a person may write too ("I'm out of office
  tomorrow, so I paid today"), so a body is an auto-reply only with both, or with one `automatic`
  sentence that says so outright.
- `thanks`: "thank you for your message", a weaker marker: people open with it too ("Thank you for
  your email. I'm on vacation next week, so I paid today."). It counts only when the sentence of the
  statement also says when the absence ends (`until`: "... out of the office until 10 March"); a
  start ("on leave from tomorrow") is how a person warns of a coming absence.
- `until`: the words that end an absence, a subset of `cue`.
- `commitment`: the sender saying they pay or paid ("we will pay", "wir überweisen"). A person warning
  of an absence often says it ("I'm on holiday until Monday, we will pay next week"); autoresponders
  do not, so it overrules a statement with a marker (never a header, a subject or an `automatic`
  sentence), and the reply goes on to be read as a person's.
- `automatic`: the message saying it is automatic ("This is an automatic reply").
- `cue`: the words after which a return date is written ("until", "bis", "jusqu'au", ...).
Subjects are in `AUTO_SUBJECT`: autoresponders put their label first ("Automatic reply: Re: ...").
"""

import re

_F = re.IGNORECASE | re.UNICODE

# "[^\n.!?]" keeps a match inside one sentence; "(?:\d\.|[^\n.!?])" lets German "15. März" through.
_SENTENCE = r"(?:\d\.|[^\n.!?]){0,80}?"

LANGUAGES = {
    "en": {
        "statement": rf"\bI(?:'m| am| will be|'ll be| shall be)\b{_SENTENCE}\b(?:out of (?:the )?office|OOO|"
        r"away from (?:the |my )?(?:office|desk)|on (?:annual |parental |sick |maternity |paternity )?leave|"
        r"on (?:vacation|holiday|holidays|a business trip)|travell?ing|away|out of the country|"
        r"not (?:in the office|available))\b",
        "thanks": r"\b(?:thank you for your (?:e-?mail|message|note)|thanks for your (?:e-?mail|message))",
        "marker": r"\b(?:limited (?:access to )?(?:e-?mail|email access)|(?:upon|on|after) my return|when "
        r"I(?:'m| am)? (?:back|return)|"
        r"for (?:urgent|immediate) (?:\w+ )?(?:matters|issues|questions|enquiries|inquiries|assistance)|"
        r"(?:if|in case) (?:it is|it's|your (?:matter|message) is) urgent|"
        r"will (?:not be|n't be) (?:forwarded|read)|(?:respond|reply|get back to you) (?:to your "
        r"(?:e-?mail|message) )?"
        r"(?:as soon as possible|on my return|when I return|upon my return))",
        "automatic": r"\b(?:this is an? (?:automatic|automated|auto-generated)(?: \w+)? (?:reply|response|"
        r"message|"
        r"notification|e-?mail)|(?:we|we've|we have) (?:received|got) your (?:request|message|"
        r"e-?mail|enquiry|inquiry)"
        r"[^\n]{0,160}\b(?:ticket|request (?:number|id)|case (?:number|id)|reference number)|"
        r"please do not reply to this (?:automated |automatic )?(?:e-?mail|message))",
        "until": r"\b(?:until|till|til|through|thru|back|return(?:ing)?)\b",
        "commitment": r"\b(?:we|I)(?:\'ll| will| shall|\'ve| have| had)?(?: already)? (?:pay|paid|transfer|"
        r"transferred|settle|settled)\b|"
        # "... asked my colleague to pay the invoice today": a payment with a near time is a person's.
        r"\b(?:pay|paid|transfer)\b[^\n.]{0,30}\b(?:today|tomorrow|now|this week|next week)\b",
        "cue": r"\b(?:until|till|til|through|thru|back|return(?:ing)?|from)\b",
    },
    "de": {
        "statement": rf"\b(?:ich bin|ich befinde mich|ich werde|bin ich|befinde ich mich){_SENTENCE}"
        r"(?:nicht im (?:Büro|Hause|Haus)|außer Haus|abwesend|im Urlaub|in Urlaub|nicht erreichbar|"
        r"auf Geschäftsreise|in Elternzeit|nicht verfügbar)",
        "thanks": r"(?:vielen dank für ihre|danke für ihre|danke für deine|vielen dank für deine) "
        r"(?:e-?mail|nachricht|mail)",
        "marker": r"in dringenden fällen|bei dringenden (?:anliegen|fragen|angelegenheiten)|"
        r"(?:nach|bei) meiner rückkehr|wieder (?:im büro|erreichbar|für sie da|zurück)|"
        r"(?:wird|werden) nicht weitergeleitet|eingeschränkt(?:en)? zugriff",
        "automatic": r"\b(?:dies ist eine automatische (?:antwort|nachricht|e-?mail)|abwesenheitsnotiz|"
        r"automatisch generierte nachricht|wir haben ihre (?:anfrage|nachricht|e-?mail) erhalten[^\n]{0,160}"
        r"\b(?:ticket|vorgangsnummer|anfragenummer))",
        "until": r"\b(?:bis|zurück|wieder)\b",
        "commitment": r"\b(?:wir|ich) (?:zahlen|zahle|überweisen|überweise|begleichen|haben "
        r"[^\n.]{0,40}(?:bezahlt|überwiesen))\b",
        "cue": r"\b(?:bis|ab|zurück|wieder|vom)\b",
    },
    "fr": {
        "statement": rf"\b(?:je suis|je serai|je me trouve){_SENTENCE}"
        r"(?:absente?|en congés?|en vacances|hors du bureau|en déplacement|indisponible|en dehors du bureau)",
        "thanks": r"merci (?:pour|de) votre (?:message|e-?mail|courriel|mail)",
        "marker": r"pour toute (?:urgence|demande urgente)|"
        r"en cas d'urgence|(?:dès|à) mon retour|ne sera pas (?:transféré|lu)|accès limité|"
        r"de retour (?:le|au bureau)",
        "automatic": r"\b(?:ceci est une? (?:réponse|message) automatique|réponse automatique|"
        r"nous avons (?:bien )?reçu votre (?:demande|message|e-?mail)[^\n]{0,160}\b(?:ticket|numéro))",
        "until": r"(?:\bjusqu['’]|\bretour\b|\brentrerai\b)",
        "commitment": r"\b(?:nous (?:payons|paierons|allons payer|avons payé|réglerons)|je (?:paie|paierai|"
        r"vais payer|ai payé))\b",
        "cue": r"(?:\bjusqu'(?:au|à|a)\b|jusqu’(?:au|à)|\bretour\b|\bdu\b|\bà partir du\b|\bdès le\b|"
        r"\brentrerai\b)",
    },
    "es": {
        "statement": rf"\b(?:estoy|estaré|me encuentro|me encontraré){_SENTENCE}"
        r"(?:fuera de la oficina|de vacaciones|ausente|fuera del despacho|de viaje|de baja|de permiso|fuera)",
        "thanks": r"gracias por su (?:mensaje|correo|e-?mail)|gracias por tu (?:mensaje|correo)",
        "marker": r"para (?:asuntos|temas|consultas) urgentes|en caso de urgencia|a mi (?:regreso|vuelta)|"
        r"acceso limitado|no (?:será|sera) reenviado|responderé",
        "automatic": r"\b(?:esta es una respuesta automática|respuesta automática|mensaje automático|"
        r"hemos recibido su (?:solicitud|mensaje|correo)[^\n]{0,160}\b(?:ticket|número))",
        "until": r"\b(?:hasta|regreso|volveré|vuelta)\b",
        "commitment": r"\b(?:pagaremos|pagamos|pagaré|hemos pagado|vamos a pagar|transferiremos)\b",
        "cue": r"\b(?:hasta|regreso|volveré|vuelta|desde|del|a partir del)\b",
    },
    "it": {
        "statement": rf"\b(?:sono|sarò|mi trovo){_SENTENCE}"
        r"(?:fuori (?:ufficio|sede)|in ferie|assente|in vacanza|in trasferta|in congedo)",
        "thanks": r"grazie per (?:il suo|il tuo|la sua|la tua) (?:messaggio|e-?mail|mail)",
        "marker": r"per (?:urgenze|questioni urgenti)|"
        r"in caso di urgenza|al mio (?:rientro|ritorno)|accesso limitato|non (?:sarà|verrà) inoltrat[ao]|"
        r"risponderò",
        "automatic": r"\b(?:questa è una risposta automatica|risposta automatica|messaggio automatico|"
        r"abbiamo ricevuto la sua (?:richiesta|e-?mail)[^\n]{0,160}\b(?:ticket|numero))",
        "until": r"\b(?:fino|rientro|rientrerò|tornerò|ritorno)\b",
        "commitment": r"\b(?:pagheremo|paghiamo|pagherò|abbiamo pagato|provvederemo al pagamento)\b",
        "cue": r"\b(?:fino al?|fino all'|rientro|rientrerò|tornerò|ritorno|dal|dall')",
    },
    "nl": {
        "statement": rf"\b(?:ik ben|ben ik|ik zal){_SENTENCE}"
        r"(?:afwezig|niet aanwezig|op vakantie|niet op kantoor|met verlof|buiten kantoor|niet bereikbaar)",
        "thanks": r"(?:bedankt|dank) voor (?:uw|je) (?:bericht|e-?mail|mail)",
        "marker": r"voor dringende (?:zaken|vragen)|"
        r"in dringende gevallen|na mijn terugkeer|weer (?:aanwezig|op kantoor|bereikbaar)|"
        r"(?:wordt|worden) niet doorgestuurd|beperkt toegang",
        "automatic": r"\b(?:dit is een automatisch (?:antwoord|bericht|gegenereerd bericht)|automatisch "
        r"antwoord|"
        r"wij hebben uw (?:verzoek|aanvraag|bericht) ontvangen[^\n]{0,160}\b(?:ticket|nummer))",
        "until": r"(?:\btot\b|\bt/m\b|\bterug\b|\bweer\b)",
        "commitment": r"\b(?:(?:we|wij|ik) (?:betalen|betaal|hebben betaald|heb betaald|maken "
        r"[^\n.]{0,30}over))\b",
        "cue": r"(?:\btot en met\b|\bt/m\b|\btot\b|\bterug\b|\bvanaf\b|\bvan\b)",
    },
    "pt": {
        "statement": rf"\b(?:estou|estarei|encontro-me|me encontro){_SENTENCE}"
        r"(?:ausente|de férias|fora do escritório|em viagem|de licença|fora)",
        "thanks": r"obrigad[oa] pel[ao] (?:sua |seu )?(?:mensagem|e-?mail|contato|contacto)",
        "marker": r"para (?:assuntos|questões) urgentes|em caso de urgência|(?:no meu|ao|após o meu|após "
        r"meu) (?:regresso|retorno)|"
        r"quando (?:eu )?(?:voltar|retornar|regressar)|acesso limitado|não será reencaminhad[ao]|responderei",
        "automatic": r"\b(?:esta é uma (?:resposta|mensagem) automática|resposta automática|"
        r"recebemos (?:a sua|sua|o seu|seu) (?:solicitação|pedido|mensagem)[^\n]{0,160}\b(?:ticket|"
        r"chamado|número))",
        "until": r"(?:\baté\b|\bretorno\b|\bregresso\b|\bvolto\b)",
        "commitment": r"\b(?:pagamos|pagaremos|vamos pagar|pagarei|já pagámos|já pagamos|transferiremos)\b",
        "cue": r"(?:\baté\b|\bretorno\b|\bregresso\b|\bvolto\b|\bde\b|\ba partir de\b)",
    },
}

COMPILED = {
    language: {key: re.compile(pattern, _F) for key, pattern in table.items()}
    for language, table in LANGUAGES.items()
}

# At the start of the subject only: a person answering an auto-reply writes "Re: Automatic reply: ...".
AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[?(?:out of (?:the )?office|ooo|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|"
    r"autoreply|"
    r"away from (?:the )?office|on vacation|on leave|"
    r"abwesenheitsnotiz|abwesenheit|abwesend|automatische antwort|nicht im büro|"
    r"réponse automatique|absence du bureau|absent(?:e)? du bureau|message d'absence|"
    r"respuesta automática|fuera de la oficina|ausente|"
    r"risposta automatica|fuori ufficio|"
    r"automatisch antwoord|afwezig|niet aanwezig|afwezigheidsbericht|"
    r"resposta automática|ausência|fora do escritório|"
    # Delivery reports that land in the thread instead of (or as well as) the bounce webhook.
    r"undeliverable|undelivered mail returned to sender|delivery status notification \(failure\)|"
    r"mail delivery failed|unzustellbar|non remis|no se puede entregar|non recapitabile|onbestelbaar|"
    r"não entregue)\b\]?\s*[:\-–(]?)",
    _F,
)
