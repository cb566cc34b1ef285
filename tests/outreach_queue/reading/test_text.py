"""Quoted history and signatures are cut, HTML is read, the text is capped (SPEC: 2,000 characters)."""

from outreach_queue.reading.text import MAX_TEXT_LENGTH, html_to_text, reply_text


def test_english_quote_header_and_signature_are_cut():
    body = (
        "We will pay on Friday.\n\nBest regards,\nAnna Schmidt\nACME GmbH\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Billing <billing@daylit.example> wrote:\n> Your invoice is overdue."
    )
    assert reply_text(text=body) == "We will pay on Friday."


def test_german_and_outlook_headers_are_cut():
    german = (
        "Wir zahlen morgen.\n\nAm 02.03.2026 um 10:00 schrieb Billing <b@daylit.example>:\n> Ihre Rechnung"
    )
    outlook = (
        "Paid.\n\n-----Original Message-----\nFrom: Billing\nSent: Monday\nSubject: Invoice\n\nPlease pay"
    )
    assert reply_text(text=german) == "Wir zahlen morgen."
    assert reply_text(text=outlook) == "Paid."


def test_portuguese_header_the_library_lacks_is_cut():
    body = (
        "Vamos pagar amanhã.\n\nEm seg., 2 de mar. de 2026 às 10:00, Billing <b@daylit.example> "
        "escreveu:\n> Fatura"
    )
    assert reply_text(text=body) == "Vamos pagar amanhã."


def test_angle_quoted_lines_without_a_header_are_dropped():
    assert reply_text(text="See below, paid.\n\n> I am out of the office until 4 March.\n> Regards") == (
        "See below, paid."
    )


def test_hyphen_lists_are_kept_as_text():
    body = "Two questions:\n- which invoice?\n- which account?"
    assert reply_text(text=body) == body


def test_html_drops_quote_containers_and_reads_blocks():
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Paid&nbsp;today.</p><p>Rui</p>"
        "<div class='gmail_quote'>On Tue, Billing wrote:<blockquote>Please pay</blockquote></div>"
        "<blockquote type='cite'>I am on holiday</blockquote></body></html>"
    )
    assert html_to_text(html) == "Paid today.\n\nRui"
    assert reply_text(text="", html=html).startswith("Paid today.")


def test_plain_body_is_preferred_over_html():
    assert reply_text(text="Plain words.", html="<p>HTML words.</p>") == "Plain words."


def test_text_is_capped():
    text = reply_text(text="word " * 2000)
    assert len(text) <= MAX_TEXT_LENGTH
    assert text.startswith("word word")


def test_empty_bodies_read_as_empty():
    assert reply_text(text="", html="") == ""
    assert reply_text(text="   \n", html="<p> </p>") == ""
