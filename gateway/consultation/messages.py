"""Built-in texts in every language CivicLine ships with.

A consultation may override the first five (`OVERRIDABLE`) per language in its YAML
file; a consultation in a language not listed here must override all of them, and
`checking` says so. Placeholders in braces are filled in by the engine.
"""

from __future__ import annotations

from string import Formatter

OVERRIDABLE = ("welcome", "help", "thanks", "closed", "invalid")

# name -> placeholders the template may use ({title} is always available)
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "welcome": frozenset({"title", "count"}),
    "help": frozenset({"title", "keyword"}),
    "thanks": frozenset({"title"}),
    "closed": frozenset({"title"}),
    "invalid": frozenset({"title", "hint"}),
    "upcoming": frozenset({"title", "opens"}),
    "opted_out": frozenset({"title"}),
    "opted_in": frozenset({"title"}),
    "language_set": frozenset({"title"}),
    "unknown_language": frozenset({"title", "choices"}),
    "no_consultation": frozenset({"title", "keywords"}),
    "unparsed_next": frozenset({"title"}),
    "already_done": frozenset({"title", "keyword"}),
    "resume": frozenset({"title", "number", "count"}),
    "hint_choice": frozenset({"title", "max"}),
    "hint_yes_no": frozenset({"title"}),
    "hint_scale": frozenset({"title", "min", "max"}),
    "hint_text": frozenset({"title"}),
    "hint_skip": frozenset({"title"}),
    "keys_choice": frozenset({"title", "max"}),
    "keys_yes_no": frozenset({"title"}),
    "keys_scale": frozenset({"title", "min", "max"}),
    "keys_skip": frozenset({"title"}),
    "yes": frozenset({"title"}),
    "no": frozenset({"title"}),
    # Voice line only (spoken, never sent by SMS).
    "voice_language_option": frozenset({"title", "key"}),
    "voice_consultation_option": frozenset({"title", "key"}),
    "voice_welcome": frozenset({"title", "count"}),
    "voice_resume": frozenset({"title", "number", "count"}),
    "voice_upcoming": frozenset({"title", "opens"}),
    "voice_option": frozenset({"title", "label", "key"}),
    "voice_repeat": frozenset({"title"}),
    "voice_chose": frozenset({"title", "label"}),
    "voice_no_input": frozenset({"title"}),
    "voice_invalid_key": frozenset({"title"}),
    "voice_next_question": frozenset({"title"}),
    "voice_skipped": frozenset({"title"}),
    "voice_record": frozenset({"title"}),
    "voice_recorded": frozenset({"title"}),
    "voice_no_recording": frozenset({"title"}),
    "voice_goodbye": frozenset({"title"}),
    "voice_no_consultation": frozenset({"title"}),
    "voice_hidden_number": frozenset({"title"}),
}

BUILTIN: dict[str, dict[str, str]] = {
    "en": {
        "welcome": "{title}: {count} short questions. Reply STOP to stop, HELP for help.",
        "help": "{title}: reply with the number of your answer. SKIP skips optional "
        "questions, LANG changes language, STOP ends messages. Text {keyword} to resume.",
        "thanks": "Thank you. Your answers to {title} were recorded.",
        "closed": "{title} is closed. Thank you for your interest.",
        "invalid": "Sorry, that is not a valid answer. {hint}",
        "upcoming": "{title} opens on {opens}. Please text again then.",
        "opted_out": "You will get no more messages. Reply START to join again.",
        "opted_in": "Welcome back. Text a keyword to take part.",
        "language_set": "Language set to English.",
        "unknown_language": "Unknown language. Reply LANG with one of: {choices}",
        "no_consultation": "To take part, text one of: {keywords}",
        "unparsed_next": "We could not read that answer. Next question:",
        "already_done": "You have answered {title}. Thank you. Text {keyword} to change answers.",
        "resume": "Welcome back to {title}: we continue where you stopped, at question {number} "
        "of {count}.",
        "hint_choice": "Reply 1 to {max}.",
        "hint_yes_no": "Reply 1 for Yes or 2 for No.",
        "hint_scale": "Reply a number from {min} to {max}.",
        "hint_text": "Please reply with a few words.",
        "hint_skip": "Reply SKIP to skip.",
        "keys_choice": "Press a key from 1 to {max}.",
        "keys_yes_no": "Press 1 for Yes or 2 for No.",
        "keys_scale": "Press a key from {min} to {max}.",
        "keys_skip": "Press 0 to skip.",
        "yes": "Yes",
        "no": "No",
        "voice_language_option": "For English, press {key}.",
        "voice_consultation_option": "For {title}, press {key}.",
        "voice_welcome": "Welcome to {title}. There are {count} short questions. Answer with "
        "the keys on your phone.",
        "voice_resume": "Welcome back to {title}: we continue where you stopped, at question "
        "{number} of {count}.",
        "voice_upcoming": "{title} opens on {opens}. Please call again then. Goodbye.",
        "voice_option": "For {label}, press {key}.",
        "voice_repeat": "Press star to repeat.",
        "voice_chose": "You chose {label}.",
        "voice_no_input": "We did not hear a key.",
        "voice_invalid_key": "That key is not valid.",
        "voice_next_question": "Let us go to the next question.",
        "voice_skipped": "You skipped this question.",
        "voice_record": "After the beep, say your comment, then press hash.",
        "voice_recorded": "Thank you. Your comment was recorded.",
        "voice_no_recording": "We did not hear a comment.",
        "voice_goodbye": "Goodbye.",
        "voice_no_consultation": "There is no consultation open now. Goodbye.",
        "voice_hidden_number": "Please call again without hiding your number. Goodbye.",
    },
    "sw": {
        "welcome": "{title}: maswali {count} mafupi. Jibu SITISHA kusitisha, MSAADA kwa msaada.",
        "help": "{title}: jibu kwa namba ya jibu lako. RUKA kuruka swali la hiari, "
        "LUGHA kubadili lugha, SITISHA kusitisha. Tuma {keyword} kuendelea.",
        "thanks": "Asante. Majibu yako kwa {title} yamehifadhiwa.",
        "closed": "{title} imefungwa. Asante kwa kushiriki.",
        "invalid": "Samahani, jibu hilo si sahihi. {hint}",
        "upcoming": "{title} itafunguliwa {opens}. Tafadhali tuma tena wakati huo.",
        "opted_out": "Hutapokea ujumbe zaidi. Jibu START kujiunga tena.",
        "opted_in": "Karibu tena. Tuma neno kuu kushiriki.",
        "language_set": "Lugha imewekwa Kiswahili.",
        "unknown_language": "Lugha haijulikani. Jibu LUGHA na moja ya: {choices}",
        "no_consultation": "Kushiriki, tuma moja ya: {keywords}",
        "unparsed_next": "Hatukuweza kusoma jibu hilo. Swali linalofuata:",
        "already_done": "Umejibu {title}. Asante. Tuma {keyword} kubadili majibu.",
        "resume": "Karibu tena kwenye {title}: tunaendelea ulipoishia, swali la {number} kati "
        "ya {count}.",
        "hint_choice": "Jibu 1 hadi {max}.",
        "hint_yes_no": "Jibu 1 kwa Ndiyo au 2 kwa Hapana.",
        "hint_scale": "Jibu namba kutoka {min} hadi {max}.",
        "hint_text": "Tafadhali jibu kwa maneno machache.",
        "hint_skip": "Jibu RUKA kuruka.",
        "keys_choice": "Bonyeza kitufe kutoka 1 hadi {max}.",
        "keys_yes_no": "Bonyeza 1 kwa Ndiyo au 2 kwa Hapana.",
        "keys_scale": "Bonyeza kitufe kutoka {min} hadi {max}.",
        "keys_skip": "Bonyeza 0 kuruka.",
        "yes": "Ndiyo",
        "no": "Hapana",
        "voice_language_option": "Kwa Kiswahili, bonyeza {key}.",
        "voice_consultation_option": "Kwa {title}, bonyeza {key}.",
        "voice_welcome": "Karibu kwenye {title}. Kuna maswali {count} mafupi. Jibu kwa "
        "kubonyeza vitufe vya simu yako.",
        "voice_resume": "Karibu tena kwenye {title}: tunaendelea ulipoishia, swali la {number} "
        "kati ya {count}.",
        "voice_upcoming": "{title} itafunguliwa {opens}. Tafadhali piga tena wakati huo. Kwaheri.",
        "voice_option": "Kwa {label}, bonyeza {key}.",
        "voice_repeat": "Bonyeza nyota kusikiliza tena.",
        "voice_chose": "Umechagua {label}.",
        "voice_no_input": "Hatukusikia kitufe chochote.",
        "voice_invalid_key": "Kitufe hicho si sahihi.",
        "voice_next_question": "Twende kwenye swali linalofuata.",
        "voice_skipped": "Umeruka swali hili.",
        "voice_record": "Baada ya mlio, sema maoni yako, kisha bonyeza kitufe cha reli.",
        "voice_recorded": "Asante. Maoni yako yamerekodiwa.",
        "voice_no_recording": "Hatukusikia maoni yoyote.",
        "voice_goodbye": "Kwaheri.",
        "voice_no_consultation": "Hakuna utafiti ulio wazi sasa. Kwaheri.",
        "voice_hidden_number": "Tafadhali piga tena bila kuficha namba yako. Kwaheri.",
    },
    "fr": {
        "welcome": "{title}: {count} questions courtes. Repondez ARRET pour arreter, AIDE "
        "pour l'aide.",
        "help": "{title}: repondez avec le numero de votre choix. PASSER passe une question "
        "facultative, LANGUE change la langue, ARRET arrete. Envoyez {keyword} pour reprendre.",
        "thanks": "Merci. Vos reponses a {title} sont enregistrees.",
        "closed": "{title} est close. Merci de votre interet.",
        "invalid": "Desole, reponse non valide. {hint}",
        "upcoming": "{title} ouvre le {opens}. Merci de renvoyer a ce moment.",
        "opted_out": "Vous ne recevrez plus de messages. Repondez START pour revenir.",
        "opted_in": "Bon retour. Envoyez un mot-cle pour participer.",
        "language_set": "Langue: francais.",
        "unknown_language": "Langue inconnue. Repondez LANGUE avec: {choices}",
        "no_consultation": "Pour participer, envoyez: {keywords}",
        "unparsed_next": "Reponse illisible. Question suivante:",
        "already_done": "Vous avez repondu a {title}. Merci. Envoyez {keyword} pour modifier.",
        "resume": "Bon retour a {title}: nous reprenons ou vous vous etes arrete, a la question "
        "{number} sur {count}.",
        "hint_choice": "Repondez 1 a {max}.",
        "hint_yes_no": "Repondez 1 pour Oui ou 2 pour Non.",
        "hint_scale": "Repondez un nombre de {min} a {max}.",
        "hint_text": "Repondez en quelques mots.",
        "hint_skip": "Repondez PASSER pour passer.",
        "keys_choice": "Appuyez sur une touche de 1 à {max}.",
        "keys_yes_no": "Appuyez sur 1 pour Oui ou 2 pour Non.",
        "keys_scale": "Appuyez sur une touche de {min} à {max}.",
        "keys_skip": "Appuyez sur 0 pour passer.",
        "yes": "Oui",
        "no": "Non",
        "voice_language_option": "Pour le français, appuyez sur {key}.",
        "voice_consultation_option": "Pour {title}, appuyez sur {key}.",
        "voice_welcome": "Bienvenue à {title}. Il y a {count} questions courtes. Répondez "
        "avec les touches de votre téléphone.",
        "voice_resume": "Bon retour à {title}: nous reprenons là où vous vous êtes arrêté, à la "
        "question {number} sur {count}.",
        "voice_upcoming": "{title} ouvre le {opens}. Merci de rappeler à ce moment. Au revoir.",
        "voice_option": "Pour {label}, appuyez sur {key}.",
        "voice_repeat": "Appuyez sur étoile pour réécouter.",
        "voice_chose": "Vous avez choisi {label}.",
        "voice_no_input": "Nous n'avons entendu aucune touche.",
        "voice_invalid_key": "Cette touche n'est pas valide.",
        "voice_next_question": "Passons à la question suivante.",
        "voice_skipped": "Vous avez passé cette question.",
        "voice_record": "Après le bip, dites votre commentaire, puis appuyez sur dièse.",
        "voice_recorded": "Merci. Votre commentaire est enregistré.",
        "voice_no_recording": "Nous n'avons entendu aucun commentaire.",
        "voice_goodbye": "Au revoir.",
        "voice_no_consultation": "Aucune consultation n'est ouverte en ce moment. Au revoir.",
        "voice_hidden_number": "Merci de rappeler sans masquer votre numéro. Au revoir.",
    },
}

# Names of languages as a participant might type them after LANG.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "eng", "kiingereza", "anglais"),
    "sw": ("swahili", "kiswahili", "kisw"),
    "fr": ("french", "francais", "kifaransa"),
}


def builtin_message(name: str, language: str) -> str:
    """The built-in template; falls back to English for a language CivicLine lacks."""
    texts = BUILTIN.get(language) or BUILTIN["en"]
    return texts[name]


def has_builtin(name: str, language: str) -> bool:
    return name in BUILTIN.get(language, {})


def placeholders(template: str) -> set[str]:
    """The {names} a template uses; raises ValueError on a malformed template."""
    return {field for _, field, _, _ in Formatter().parse(template) if field}


# The reminder an outreach of kind `reminder` sends when the consultation gives none
# (gateway/consultation/outreach_texts.py): one SMS, with STOP.
BUILTIN_REMINDER: dict[str, str] = {
    "en": "You started the {title}. Text {keyword} to continue. Reply STOP to stop.",
    "sw": "Ulianza {title}. Tuma {keyword} kuendelea. Jibu STOP kuacha.",
    "fr": "Vous avez commencé {title}. Envoyez {keyword} pour continuer. Répondez STOP "
    "pour arrêter.",
}


def builtin_reminder(language: str) -> str | None:
    """The built-in reminder of `language`; None for a language CivicLine lacks."""
    return BUILTIN_REMINDER.get(language)
